import AtomicFiles
import Foundation

/// Makes finished samples durable off the worker threads. A worker writes a sample's files
/// under temporary names and hands them over with the sample's journal entry; this one thread
/// flushes (fdatasync) and renames them, in order, and only then journals the sample. A worker
/// therefore never waits for the disk (a flush blocks for milliseconds, during which its core
/// would sit idle; the worker only starts the writeback, `AtomicFileWriter.startWriteback()`),
/// and the invariants stay those of a synchronous write: a final name only ever holds complete
/// contents, and the journal only names samples whose files are in place.
///
/// The queue holds at most `capacity` samples: their bytes are already in the temporary
/// files, so waiting samples cost two open descriptors each, not pixels.
final class SampleCommitter: @unchecked Sendable {
    /// One finished sample: its entry, and its files still under temporary names (none for a
    /// dropped sample).
    struct Item: @unchecked Sendable {
        let entry: JournalEntry
        let files: [AtomicFileWriter]
    }

    private let queue: BoundedQueue<Item>
    private let journal: RunJournal
    private let committed: (JournalEntry) -> Void
    private let failed: (Error) -> Void
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - committed: called on the committer thread after each sample is journaled.
    ///   - failed: called once with the first error; later samples are then discarded.
    init(journal: RunJournal, capacity: Int, committed: @escaping (JournalEntry) -> Void,
         failed: @escaping (Error) -> Void) {
        self.queue = BoundedQueue(capacity: capacity)
        self.journal = journal
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
        var failure: Error?
        while let item = queue.pop() {
            guard failure == nil else {
                item.files.forEach { $0.discard() }
                continue
            }
            do {
                for file in item.files { try AtomicFile.mapErrors { try file.commit() } }
                try journal.append(item.entry)
                committed(item.entry)
            } catch {
                item.files.forEach { $0.discard() }
                failure = error
                failed(error)
                queue.close(discardingPending: true)
            }
        }
        done.signal()
    }
}
