import CFileSync
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AtomicFileWriter {
    /// Commits `writers` together, in order: one flush of each file system they are on
    /// instead of one flush per file, then each rename, then one sync of each folder (unless a
    /// writer's options name a `FolderSyncBatch`, which the caller syncs).
    ///
    /// For many small files the flush is most of the cost of writing them: each `fdatasync`
    /// writes the file's inode and flushes the disk's cache on its own. Two files of 12 and 2 KB
    /// per sample, measured in a C loop on this machine's ext4: 0.62 ms wall and 0.26 ms CPU
    /// per sample with an fdatasync each, 0.19–0.23 ms wall and 0.12 ms CPU with one `syncfs`
    /// per 64 samples, the same CPU as no flush at all.
    ///
    /// The flush is Linux's `syncfs`, which also writes out other programs' unsaved data on
    /// the same file system (on a busy shared node that can take long), and reports a write-back
    /// error of any file there, failing the batch. Where it is missing or cannot be trusted to
    /// report errors or to persist anything (not Linux; Linux before 5.8; FUSE file systems)
    /// every durable file is flushed on its own, as `commit()` does (see `finishWriting()`).
    /// Writers with `durable: false` are only renamed.
    ///
    /// Writers may still be open or closed by `finishWriting()`. On failure every writer not
    /// yet renamed is discarded (those renamed before it stay, complete) and the error names
    /// the file concerned; for a failed file-system flush, the first durable file and, as
    /// `detailPath`, the folder through which its file system was flushed. A writer already
    /// committed or discarded makes it throw `.finished` before any file is touched.
    public static func commit(_ writers: [AtomicFileWriter]) throws {
        try commit(writers, flushingFileSystemWith: cfilesync_flush_file_system)
    }

    /// `commit(_:)` with the file-system flush given (tests inject failures). `flushFileSystem`
    /// takes a descriptor on the file system and returns 0, or -1 with errno set (`ENOSYS`:
    /// not available, flush each file instead).
    static func commit(_ writers: [AtomicFileWriter], flushingFileSystemWith flushFileSystem: (Int32) -> Int32) throws {
        if let finished = writers.first(where: { !$0.isOpen && !$0.isAwaitingCommit }) {
            throw AtomicFileError(path: finished.path, step: .finished, code: EBADF)
        }
        // Folders of writers without a folder batch of their own are synced once, at the end.
        let folders = FolderSyncBatch()
        do {
            let flushed = try flushFileSystems(of: writers.filter { $0.options.durable }, with: flushFileSystem)
            for writer in writers {
                try writer.commit(
                    flushed: !writer.options.durable || flushed.contains(ObjectIdentifier(writer)), folders: folders)
            }
        } catch {
            writers.forEach { $0.discard() }
            folders.syncAll()  // the files renamed before the failure are complete: make them durable too
            throw error
        }
        folders.syncAll()
    }

    /// Flushes the file system of each group of `writers` that share a device, once. Returns
    /// the writers so flushed; the others (flush not available, temporary not found) are left
    /// for their own flush, which reports any problem with the file itself.
    private static func flushFileSystems(
        of writers: [AtomicFileWriter], with flushFileSystem: (Int32) -> Int32
    ) throws
        -> Set<ObjectIdentifier>
    {
        var groups: [dev_t: [AtomicFileWriter]] = [:]
        var order: [dev_t] = []
        for writer in writers {
            var status = stat()
            guard stat(writer.temporaryPath, &status) == 0 else { continue }
            if groups[status.st_dev] == nil { order.append(status.st_dev) }
            groups[status.st_dev, default: []].append(writer)
        }
        var flushed = Set<ObjectIdentifier>()
        for device in order {
            let group = groups[device]!
            let folder = split(group[0].path).folder
            let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            let result = flushFileSystem(descriptor)
            let code = errno
            close(descriptor)
            if result != 0 && code == ENOSYS { continue }
            if result != 0 { throw AtomicFileError(path: group[0].path, step: .flush, code: code, detailPath: folder) }
            group.forEach { flushed.insert(ObjectIdentifier($0)) }
        }
        return flushed
    }
}
