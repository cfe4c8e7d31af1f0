#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
/// Flushes a file's data and the metadata needed to read it back (its size, its blocks), which
/// is all a new file renamed into place needs; fsync would also write its timestamps.
private let flushData = Glibc.fdatasync
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
private let flushData = Darwin.fsync
#endif

/// What an atomic write does besides writing and renaming.
public struct AtomicWriteOptions: Sendable {
    /// Flush the file to disk before the rename (fdatasync; fsync on macOS) and fsync its folder
    /// after it (the default). Without it a
    /// crashed *process* still never leaves a partial file under the final name, but a power
    /// loss may; turn it off only for throw-away outputs (tests, synthetic fixtures).
    public var durable: Bool
    /// Create missing parent folders (mode 0755) before writing. Off by default: a missing
    /// folder is then an error naming the path (step `.createTemporary`, `ENOENT`).
    public var createFolders: Bool
    /// Permission bits of the new file, before the umask. A replaced file does not keep its
    /// old permissions.
    public var permissions: mode_t
    /// When set (and `durable` is on), folders are added to this batch instead of being synced
    /// after each rename; the caller calls `syncAll()` before relying on the files surviving a
    /// power loss (see ``FolderSyncBatch``). Nil syncs each folder at once.
    public var folderSyncs: FolderSyncBatch?

    public init(
        durable: Bool = true, createFolders: Bool = false, permissions: mode_t = 0o644,
        folderSyncs: FolderSyncBatch? = nil
    ) {
        self.durable = durable
        self.createFolders = createFolders
        self.permissions = permissions
        self.folderSyncs = folderSyncs
    }

    /// Syncs `folder` now, or adds it to `folderSyncs`; nothing when not durable.
    func syncFolder(_ folder: String) {
        guard durable else { return }
        if let folderSyncs { folderSyncs.add(folder) } else { AtomicFileWriter.syncFolder(folder) }
    }
}

/// Writes one file so that its final name only ever holds complete contents.
///
/// The bytes go to a hidden temporary file in the same folder as the final name
/// (`.NAME.partial-HOST-PID-RANDOM`, see ``isTemporary(fileName:)``), which `commit()` flushes to
/// disk (fdatasync on Linux, fsync elsewhere), renames over the final name (atomic on POSIX file systems: readers see the
/// old file or the new one, never a mix) and then makes the rename durable by syncing the
/// folder, now or in a later ``FolderSyncBatch/syncAll()``. A failed sync of the folder is
/// ignored: the file is complete by then.
///
/// Every failure removes the temporary file before it throws, and so does `discard()` and
/// dropping an uncommitted writer, so an error or an early exit midway through a stream leaves
/// neither a final file nor a temporary one. A failed writer is finished: later calls throw
/// ``AtomicFileError/Step/finished``. Interrupted system calls (EINTR) are retried and short
/// writes continued. A process killed by a signal can leave its temporary file; remove such
/// files with ``isTemporary(fileName:)`` when cleaning up.
///
/// Streaming (a shard written record by record):
/// ```swift
/// let writer = try AtomicFileWriter(path: "out/shard-00000.tfrecord")
/// for chunk in chunks { try writer.write(chunk) }
/// try writer.commit()
/// ```
/// Whole buffer: `try AtomicFileWriter.write(bytes, to: "out/report.json")`.
///
/// A writer is used from one thread at a time.
public final class AtomicFileWriter {
    /// The final path the file appears under after `commit()`.
    public let path: String
    /// The temporary file being written, in the same folder as `path`.
    public let temporaryPath: String
    public let options: AtomicWriteOptions
    /// Bytes written so far.
    public private(set) var bytesWritten = 0
    /// The temporary file, open for writing; -1 after `finishWriting()` and once the writer is
    /// committed, discarded or failed.
    private var descriptor: Int32
    /// Closed by `finishWriting()`, neither committed nor discarded yet.
    private var awaitingCommit = false

    /// Creates the temporary file for `path`. Throws ``AtomicFileError`` with step
    /// `.createFolder` or `.createTemporary` when the folder is missing (`ENOENT`), not a
    /// folder, read-only (`EROFS`) or not writable (`EACCES`).
    public convenience init(path: String, options: AtomicWriteOptions = AtomicWriteOptions()) throws {
        let (folder, name) = Self.split(path)
        guard !name.isEmpty else {
            throw AtomicFileError(path: path, step: .createTemporary, code: EISDIR)
        }
        if options.createFolders { try Self.createFolders(folder, for: path, options: options) }
        let (temporaryPath, descriptor) = try Self.createTemporary(in: folder, name: name, for: path, options: options)
        self.init(path: path, temporaryPath: temporaryPath, descriptor: descriptor, options: options)
    }

    /// Adopts an open `descriptor` as the temporary file (tests pass /dev/full to simulate a
    /// full disk).
    init(path: String, temporaryPath: String, descriptor: Int32, options: AtomicWriteOptions) {
        self.path = path
        self.temporaryPath = temporaryPath
        self.descriptor = descriptor
        self.options = options
    }

    deinit { discard() }

    /// True while the writer accepts bytes: not closed by `finishWriting()`, committed,
    /// discarded or failed.
    public var isOpen: Bool { descriptor >= 0 }

    /// Appends `bytes`. On failure the temporary file is removed and the error's `byteOffset`
    /// says how far the file got; an empty buffer is a no-op.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard isOpen else { throw AtomicFileError(path: path, step: .finished, code: EBADF) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if let code = FaultPoint.write.reached() {  // a test's full disk (inert otherwise)
            discard()
            throw AtomicFileError(path: path, step: .write, code: code, byteOffset: bytesWritten)
        }
        var done = 0
        while done < bytes.count {
            let result = systemWrite(descriptor, base + done, bytes.count - done)
            if result > 0 {
                done += result
                continue
            }
            // write() returning 0 for a non-empty buffer should not happen on a regular file;
            // treat it as an I/O error rather than spinning.
            let code = result < 0 ? errno : EIO
            if code == EINTR { continue }
            let offset = bytesWritten + done
            discard()
            throw AtomicFileError(path: path, step: .write, code: code, byteOffset: offset)
        }
        bytesWritten += done
    }

    /// Appends `bytes`, as the raw-buffer `write(_:)` does.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Closes the temporary file once every byte is written; `commit()` (or the batch
    /// `commit(_:)`) renames it later, `discard()` removes it. Afterwards `write` throws
    /// `.finished`. A writer that waits for a batch this way holds no open descriptor, so any
    /// number of them can wait. On failure the temporary file is removed.
    ///
    /// Where the batch cannot flush the file system as a whole (see `commit(_:)`), the file is
    /// reopened to be flushed on its own. That is slightly weaker than flushing the descriptor
    /// that wrote it: Linux reports a write-back error to a descriptor opened after the error
    /// only while the inode stays cached, so an error in the moments between the close and the
    /// flush can go unseen if memory is short.
    public func finishWriting() throws {
        guard isOpen else { throw AtomicFileError(path: path, step: .finished, code: EBADF) }
        let closing = descriptor
        descriptor = -1
        // An EINTR from close still releases the descriptor on Linux; retrying could close
        // another thread's file, so it counts as success.
        if close(closing) != 0 && errno != EINTR {
            let code = errno
            unlink(temporaryPath)
            throw AtomicFileError(path: path, step: .close, code: code)
        }
        awaitingCommit = true
    }

    /// True from `finishWriting()` until the writer is committed or discarded.
    public var isAwaitingCommit: Bool { awaitingCommit }

    /// Flushes the file to disk (unless `options.durable` is off), closes it, renames it over
    /// `path` and syncs the folder. Afterwards the writer is finished. On failure the temporary
    /// file is removed and `path` holds what it held before.
    public func commit() throws {
        try commit(flushed: !options.durable)
    }

    /// `commit()`, with the flush skipped when `flushed` (the caller flushed the whole file
    /// system since the last byte was written), and the folder added to `folders` when the
    /// options name no batch of their own.
    func commit(flushed: Bool, folders: FolderSyncBatch? = nil) throws {
        guard isOpen || awaitingCommit else { throw AtomicFileError(path: path, step: .finished, code: EBADF) }
        if !flushed { try flush() }
        if isOpen { try finishWriting() }
        awaitingCommit = false
        let injected = FaultPoint.commit.reached()  // a test's failure (inert otherwise)
        if let injected { errno = injected }
        if injected != nil || rename(temporaryPath, path) != 0 {
            let code = errno
            unlink(temporaryPath)
            throw AtomicFileError(path: path, step: .rename, code: code)
        }
        if let folders, options.durable, options.folderSyncs == nil {
            folders.add(Self.split(path).folder)
        } else {
            options.syncFolder(Self.split(path).folder)
        }
    }

    /// fdatasync (fsync on macOS) of the temporary file, reopened when `finishWriting()` closed it
    /// (read-only, or write-only for a file whose permissions allow only that).
    private func flush() throws {
        var reopened: Int32 = -1
        if !isOpen {
            reopened = open(temporaryPath, O_RDONLY | O_CLOEXEC)
            if reopened < 0 && errno == EACCES { reopened = open(temporaryPath, O_WRONLY | O_CLOEXEC) }
        }
        let target = isOpen ? descriptor : reopened
        var result: Int32 = -1
        if target >= 0 {
            repeat { result = flushData(target) } while result != 0 && errno == EINTR
        }
        let code = errno
        if reopened >= 0 { close(reopened) }
        if result != 0 {
            discard()
            throw AtomicFileError(path: path, step: .flush, code: code)
        }
    }

    /// Closes and removes the temporary file; nothing appears under `path`. Does nothing when
    /// the writer is already finished.
    public func discard() {
        guard isOpen || awaitingCommit else { return }
        if isOpen { close(descriptor) }
        descriptor = -1
        awaitingCommit = false
        unlink(temporaryPath)
    }
}

// MARK: - Whole files

extension AtomicFileWriter {
    /// Writes `bytes` to `path` atomically: afterwards `path` holds exactly `bytes`, and on
    /// error it holds what it held before and no temporary file is left.
    public static func write(
        _ bytes: UnsafeRawBufferPointer, to path: String,
        options: AtomicWriteOptions = AtomicWriteOptions()
    ) throws {
        let writer = try AtomicFileWriter(path: path, options: options)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Writes `bytes` to `path` atomically, as the raw-buffer `write(_:to:options:)` does: any
    /// byte sequence (`[UInt8]`, `Data`, a string's `utf8`), written from its own storage when
    /// it has contiguous storage, else from one copy.
    ///
    /// Every target writes its files through this (or the streaming forms): failures are
    /// ``AtomicFileError`` values, which already name the file, the step and the system's reason.
    public static func write<Bytes: Sequence>(
        _ bytes: Bytes, to path: String,
        options: AtomicWriteOptions = AtomicWriteOptions()
    ) throws
    where Bytes.Element == UInt8 {
        let written: Void? = try bytes.withContiguousStorageIfAvailable {
            try write(UnsafeRawBufferPointer($0), to: path, options: options)
        }
        if written == nil { try Array(bytes).withUnsafeBytes { try write($0, to: path, options: options) } }
    }

    /// Streams a file: `body` writes to the writer, which is committed when `body` returns and
    /// discarded when it throws (the error is rethrown unchanged), so no final or temporary
    /// file is left by a failure. Returns what `body` returns.
    public static func write<Result>(
        to path: String, options: AtomicWriteOptions = AtomicWriteOptions(),
        _ body: (AtomicFileWriter) throws -> Result
    ) throws -> Result {
        let writer = try AtomicFileWriter(path: path, options: options)
        do {
            let result = try body(writer)
            try writer.commit()
            return result
        } catch {
            writer.discard()
            throw error
        }
    }
}

// MARK: - Folders and names

extension AtomicFileWriter {
    /// The marker in every temporary file name: `.NAME.partial-HOST-PID-RANDOM`.
    public static let temporaryMarker = ".partial-"

    /// True for the name (not path) of a temporary file this writer creates; such files
    /// left in a folder come from a killed process and can be deleted.
    public static func isTemporary(fileName: String) -> Bool {
        fileName.hasPrefix(".") && fileName.contains(temporaryMarker)
    }

    /// True for a temporary file whose writer is gone: made on this host by a process that no
    /// longer exists. A temporary of a live process, of another host (workers sharing a folder
    /// over the network) or in an older naming is never abandoned: it may still be committed.
    public static func isAbandonedTemporary(fileName: String) -> Bool {
        guard isTemporary(fileName: fileName), let marker = fileName.ranges(of: temporaryMarker).last else {
            return false
        }
        let fields = fileName[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, String(fields[0]) == hostTag, let pid = Int32(fields[1]), pid > 0, pid != getpid()
        else {
            return false
        }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Deletes the abandoned temporaries (`isAbandonedTemporary`) directly in `folder` and
    /// returns their names; an unreadable folder has none.
    @discardableResult
    public static func removeAbandonedTemporaries(in folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var removed: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if isAbandonedTemporary(fileName: name) && unlink(folder + "/" + name) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }

    /// This host's name as temporary names carry it: letters, digits, `.` and `_` only (so the
    /// `-`-separated fields parse back), at most 32 characters.
    static let hostTag: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        let name = String(cString: buffer).map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" }
        return name.isEmpty ? "host" : String(name.prefix(32))
    }()

    /// fsyncs the folder at `path` so that renames into it survive a power loss. Returns false
    /// when the folder cannot be opened or synced (some file systems refuse; the files in it
    /// are complete either way).
    @discardableResult
    public static func syncFolder(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return fsync(descriptor) == 0
    }

    /// The folder of `path` ("." for a bare name, "/" for a file at the root) and its last
    /// component.
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// Creates `folder` and its missing parents; an existing folder is fine. Each new folder's
    /// parent is synced (as `options` says) so the new entry is as durable as the file.
    static func createFolders(_ folder: String, for path: String, options: AtomicWriteOptions) throws {
        var status = stat()
        if stat(folder, &status) == 0 { return }
        var current = folder.hasPrefix("/") ? "" : "."
        for component in folder.split(separator: "/") {
            let parent = current
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                options.syncFolder(parent.isEmpty ? "/" : parent)
            } else {
                let code = errno
                if code != EEXIST {
                    throw AtomicFileError(path: path, step: .createFolder, code: code, detailPath: current)
                }
            }
        }
    }

    /// Creates a new, empty temporary file for `name` in `folder`. `O_EXCL` and a random
    /// suffix keep two writers of the same name (threads or processes) apart.
    static func createTemporary(
        in folder: String, name: String, for path: String,
        options: AtomicWriteOptions
    ) throws -> (String, Int32) {
        var attempts = 0
        while true {
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let temporary = "\(folder)/.\(shortened(name))\(temporaryMarker)\(hostTag)-\(getpid())-\(suffix)"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.permissions)
            if descriptor >= 0 { return (temporary, descriptor) }
            let code = errno
            attempts += 1
            if code == EINTR || (code == EEXIST && attempts < 16) { continue }
            throw AtomicFileError(path: path, step: .createTemporary, code: code, detailPath: temporary)
        }
    }

    /// `name` cut to at most 190 UTF-8 bytes on a scalar boundary, so that the temporary name
    /// (name + marker + numbers) stays under the usual 255-byte limit.
    static func shortened(_ name: String) -> String {
        guard name.utf8.count > 190 else { return name }
        var result = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            bytes += String(scalar).utf8.count
            if bytes > 190 { break }
            result.append(scalar)
        }
        return String(result)
    }
}
