import AtomicFiles
import Foundation

/// Makes finished samples durable off the worker threads, in batches. A worker writes a
/// sample's files under temporary names, closes them and hands them over with the sample's
/// journal entry; this one thread gathers samples for up to `maxDelay` seconds or
/// `maxBatchFiles` files, flushes their file system once (`AtomicFileWriter.commit(_:)`), renames
/// them in order and only then journals them.
///
/// One flush per batch instead of an fdatasync per file is what makes durable writes cheap:
/// with an fdatasync per file the whole pipeline ran at 284 samples/s, without any flush at
/// 340, in `bench-pipeline --count 10000` on this machine. The invariants stay those of a
/// synchronous write: a final name only ever holds complete contents, and the journal only
/// names samples whose files are in place and on disk. A crash loses at most the unjournaled
/// batch, which a re-run redoes; Ctrl-C (`finish()`) commits it.
///
/// Waiting samples hold no open descriptors and no pixels, only their paths, so the queue is
/// long enough that workers never wait for a flush.
final class SampleCommitter: @unchecked Sendable {
    /// One finished sample: its entry, and its files still under temporary names (none for a
    /// dropped sample).
    struct Item: @unchecked Sendable {
        let entry: JournalEntry
        let files: [AtomicFileWriter]
    }

    private let queue: BoundedQueue<Item>
    private let journal: RunJournal
    private let maxBatchFiles: Int
    private let maxDelay: TimeInterval
    private let committed: (JournalEntry) -> Void
    private let failed: (Error) -> Void
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - capacity: samples that may wait in the queue before `submit` blocks.
    ///   - batched: gather samples into batches (durable runs); false commits each at once.
    ///   - committed: called on the committer thread after each sample is journaled.
    ///   - failed: called once with the first error; later samples are then discarded.
    init(journal: RunJournal, capacity: Int, batched: Bool, maxBatchFiles: Int = 256, maxDelay: TimeInterval = 1,
         committed: @escaping (JournalEntry) -> Void, failed: @escaping (Error) -> Void) {
        self.queue = BoundedQueue(capacity: capacity)
        self.journal = journal
        self.maxBatchFiles = batched ? maxBatchFiles : 0
        self.maxDelay = maxDelay
        self.committed = committed
        self.failed = failed
        let thread = Thread { [self] in run() }
        thread.name = "pipeline-commit"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues a finished sample; false (and its temporaries removed) after `finish()` or a failure.
    func submit(_ item: Item) -> Bool {
        if queue.push(item) { return true }
        item.files.forEach { $0.discard() }
        return false
    }

    /// Commits everything submitted so far, then stops the thread. Call once, after the last
    /// `submit`.
    func finish() {
        queue.close()
        done.wait()
    }

    private func run() {
        var batch: [Item] = []
        var files = 0
        var deadline = Date.distantFuture
        var failure: Error?
        while true {
            let item: Item
            let next: BoundedQueue<Item>.Wait
            if batch.isEmpty {
                next = queue.pop().map { .item($0) } ?? .closed  // nothing to flush: wait as long as it takes
            } else {
                next = queue.pop(waitingUntil: deadline)
            }
            switch next {
            case .item(let next): item = next
            case .timedOut:
                commit(&batch, failure: &failure)
                files = 0
                continue
            case .closed:
                commit(&batch, failure: &failure)
                done.signal()
                return
            }
            if batch.isEmpty { deadline = Date(timeIntervalSinceNow: maxDelay) }
            batch.append(item)
            files += item.files.count
            if files >= maxBatchFiles {
                commit(&batch, failure: &failure)
                files = 0
            }
        }
    }

    /// Commits and journals `batch`, in order, and empties it; after a failure only discards.
    private func commit(_ batch: inout [Item], failure: inout Error?) {
        defer { batch.removeAll(keepingCapacity: true) }
        guard failure == nil else {
            batch.forEach { $0.files.forEach { $0.discard() } }
            return
        }
        do {
            try AtomicFile.mapErrors { try AtomicFileWriter.commit(batch.flatMap(\.files)) }
            for item in batch {
                try journal.append(item.entry)
                committed(item.entry)
            }
        } catch {
            batch.forEach { $0.files.forEach { $0.discard() } }
            failure = error
            failed(error)
            queue.close(discardingPending: true)
        }
    }
}
