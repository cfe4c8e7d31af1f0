import AtomicFiles
import Foundation

/// Writes finished samples' files and makes them durable, off the worker threads, in batches.
/// A worker encodes a sample's files and hands over their bytes with the sample's journal
/// entry; this one thread writes each file under a temporary name as it arrives, gathers
/// samples for up to `maxDelay` seconds or `maxBatchFiles` files, flushes their file system once
/// (`AtomicFileWriter.commit(_:)`), renames them in order and only then journals them.
///
/// Why here and not on the workers: creating a file can wait for the disk (ext4 reads inode
/// table and bitmap blocks it has not cached; profiled: a worker slept in such reads about
/// twice per sample), and a worker asleep leaves its core idle, while this thread's sleeps
/// leave the core to a worker. Why batches: one flush per batch instead of an fdatasync per
/// file made durable writes cheap (`bench-pipeline --count 10000`: 284 samples/s with an
/// fdatasync per file, 323 with a flush per batch, 340 with no flush at all). The invariants
/// stay those of a synchronous write: a final name only ever holds complete contents, and the
/// journal only names samples whose files are in place and on disk. A crash loses the samples
/// not yet in the journal file (the batch being gathered, and the journal's own unsynced lines:
/// up to 64 or 2 s, see `RunJournal`), which a re-run redoes; Ctrl-C (`finish()`) commits them.
///
/// The queue holds encoded bytes (about 14 KB per DeepFashion sample), so its capacity bounds
/// memory; it is long enough that workers never wait for a flush.
final class SampleCommitter: @unchecked Sendable {
    /// One file of a finished sample: its final path and its bytes.
    struct PendingFile: Sendable {
        let path: String
        let bytes: [UInt8]
    }

    /// One finished sample: its entry, and its files (none for a dropped sample).
    struct Item: Sendable {
        let entry: JournalEntry
        let files: [PendingFile]
    }

    private let queue: BoundedQueue<Item>
    private let journal: RunJournal
    private let outcomes: RunOutcomes
    private let openFile: (String) throws -> AtomicFileWriter
    private let maxBatchFiles: Int
    private let maxDelay: TimeInterval
    private let failed: (Error) -> Void
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - capacity: samples that may wait in the queue before `submit` blocks.
    ///   - openFile: a writer for a final path (its options decide durability and folders).
    ///   - outcomes: told of each sample once it is journaled, from the committer thread.
    ///   - batched: gather samples into batches (durable runs); false commits each at once.
    ///   - failed: called once with the first error; later samples are then discarded.
    init(
        journal: RunJournal, outcomes: RunOutcomes, capacity: Int,
        openFile: @escaping (String) throws -> AtomicFileWriter, batched: Bool, maxBatchFiles: Int = 256,
        maxDelay: TimeInterval = 1, failed: @escaping (Error) -> Void
    ) {
        self.queue = BoundedQueue(capacity: capacity)
        self.journal = journal
        self.outcomes = outcomes
        self.openFile = openFile
        self.maxBatchFiles = batched ? maxBatchFiles : 0
        self.maxDelay = maxDelay
        self.failed = failed
        let thread = Thread { [self] in run() }
        thread.name = "pipeline-commit"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues a finished sample; false after `finish()` or a failure (nothing was written).
    @discardableResult
    func submit(_ item: Item) -> Bool {
        queue.push(item)
    }

    /// Commits everything submitted so far, then stops the thread. Call once, after the last
    /// `submit`.
    func finish() {
        queue.close()
        done.wait()
    }

    /// A batch being gathered: its samples' entries and their files under temporary names.
    private struct Batch {
        var entries: [JournalEntry] = []
        var writers: [AtomicFileWriter] = []
    }

    private func run() {
        var batch = Batch()
        var deadline = Date.distantFuture
        var failure: Error?
        while true {
            let item: Item
            let next: BoundedQueue<Item>.Wait
            if batch.entries.isEmpty {
                next = queue.pop().map { .item($0) } ?? .closed  // nothing to flush: wait as long as it takes
            } else {
                next = queue.pop(waitingUntil: deadline)
            }
            switch next {
            case .item(let next): item = next
            case .timedOut:
                commit(&batch, failure: &failure)
                continue
            case .closed:
                commit(&batch, failure: &failure)
                done.signal()
                return
            }
            guard failure == nil else { continue }
            if batch.entries.isEmpty { deadline = Date(timeIntervalSinceNow: maxDelay) }
            do {
                try write(item.files, into: &batch.writers)
            } catch {
                stop(&batch, failure: &failure, error: error)
                continue
            }
            batch.entries.append(item.entry)
            // Full, or old: a steady stream of items (dropped samples have no files) would
            // otherwise keep the timed pop from ever timing out.
            if batch.writers.count >= maxBatchFiles || batch.entries.count >= maxBatchFiles || Date() >= deadline {
                commit(&batch, failure: &failure)
            }
        }
    }

    /// Writes `files` under temporary names and appends their writers (also those of a file
    /// that failed midway, which discard themselves).
    private func write(_ files: [PendingFile], into writers: inout [AtomicFileWriter]) throws {
        for file in files {
            let writer = try openFile(file.path)
            writers.append(writer)
            try writer.write(file.bytes)
            try writer.finishWriting()
        }
    }

    /// Commits and journals `batch`, in order, and empties it.
    private func commit(_ batch: inout Batch, failure: inout Error?) {
        guard failure == nil, !batch.entries.isEmpty else { return }
        do {
            try AtomicFileWriter.commit(batch.writers)
            for entry in batch.entries {
                try journal.append(entry)
                outcomes.journaled(entry)
            }
            batch = Batch()
        } catch {
            stop(&batch, failure: &failure, error: error)
        }
    }

    /// Discards the batch's temporaries, reports `error` and stops taking samples.
    private func stop(_ batch: inout Batch, failure: inout Error?, error: Error) {
        batch.writers.forEach { $0.discard() }
        batch = Batch()
        failure = error
        failed(error)
        queue.close(discardingPending: true)
    }
}
