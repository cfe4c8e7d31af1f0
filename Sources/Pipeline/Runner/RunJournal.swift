import AtomicFiles
import Foundation

/// One finished sample, as the journal records it.
public struct JournalEntry: Codable, Equatable, Sendable {
    public var stem: String
    public var photo: String
    public var label: String
    /// The side it was written to, when kept.
    public var split: DataSplit?
    /// Why it was dropped, when dropped.
    public var dropped: DropReason?
}

/// An append-only log of finished samples, one JSON line each, that lets a re-run skip them.
///
/// A line is appended only after the sample's outputs are renamed into place, and lines are
/// flushed and fsynced in batches (`batchSize` lines or `maxDelay` seconds): after a crash the
/// samples of the last unsynced batch are simply done again. With `folderSyncs`, the folders of
/// those outputs are synced just before the lines, so a recorded sample's files survive a power
/// loss. A torn last line is ignored when reading. Thread-safe.
public final class RunJournal: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var pendingCount = 0
    private var lastSync = Date()
    private let batchSize: Int
    private let maxDelay: TimeInterval
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Folders holding outputs whose renames are not yet durable; synced before each batch.
    let folderSyncs: FolderSyncBatch?

    /// Opens (creating) the journal for appending.
    public convenience init(path: String, batchSize: Int = 64, maxDelay: TimeInterval = 2) throws {
        try self.init(path: path, batchSize: batchSize, maxDelay: maxDelay, folderSyncs: nil)
    }

    init(path: String, batchSize: Int = 64, maxDelay: TimeInterval = 2, folderSyncs: FolderSyncBatch?) throws {
        self.path = path
        self.folderSyncs = folderSyncs
        self.batchSize = batchSize
        self.maxDelay = maxDelay
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure(path) }
        // A crash can leave a torn last line; start ours on a fresh line so it stays whole.
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0, let handle = FileHandle(forReadingAtPath: path) {
            try? handle.seek(toOffset: UInt64(info.st_size - 1))
            if handle.readData(ofLength: 1) != Data([0x0A]) { pending.append(0x0A) }
            try? handle.close()
        }
    }

    deinit { close(fd) }

    /// Records a finished sample; syncs when the batch is full or old.
    public func append(_ entry: JournalEntry) throws {
        let line = try encoder.encode(entry)
        lock.lock()
        defer { lock.unlock() }
        pending.append(contentsOf: line)
        pending.append(0x0A)
        pendingCount += 1
        if pendingCount >= batchSize || Date().timeIntervalSince(lastSync) >= maxDelay { try flushLocked() }
    }

    /// Writes and fsyncs everything appended so far.
    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        try flushLocked()
    }

    private func flushLocked() throws {
        defer { lastSync = Date() }
        guard !pending.isEmpty else { return }
        // Every pending line's files were renamed (and their folders added) before the line
        // was appended, so this covers them all.
        folderSyncs?.syncAll()
        if let code = FaultPoint.write.reached() {  // a test's full disk (inert otherwise)
            errno = code
            throw Self.failure(path)
        }
        let ok = pending.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; return false }
                offset += written
            }
            return true
        }
        guard ok, fsync(fd) == 0 else { throw Self.failure(path) }
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
    }

    /// The run's write failure for the journal, with the system's reason for `errno`.
    private static func failure(_ path: String) -> PipelineRunError {
        .writeFailed("\(path): \(String(cString: strerror(errno)))")
    }

    /// Calls `body` with each readable entry of a journal file, in order; unparsable lines
    /// (a torn last line) are counted, not fatal. A missing file has no entries.
    @discardableResult
    public static func read(
        path: String, _ body: (JournalEntry) throws -> Void
    ) throws -> (entries: Int, unreadableLines: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (0, 0) }
        defer { try? handle.close() }
        let decoder = JSONDecoder()
        var entries = 0, bad = 0
        var carry = Data()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            let atEnd = chunk.isEmpty
            carry.append(chunk)
            var start = carry.startIndex
            while let newline = carry[start...].firstIndex(of: 0x0A) {
                let line = carry[start..<newline]
                start = newline + 1
                if line.isEmpty { continue }
                if let entry = try? decoder.decode(JournalEntry.self, from: line) {
                    try body(entry)
                    entries += 1
                } else {
                    bad += 1
                }
            }
            carry = Data(carry[start...])
            if atEnd {
                if !carry.isEmpty { bad += 1 }
                return (entries, bad)
            }
        }
    }
}
