#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Folders whose renames are not yet durable, to be synced together later.
///
/// Syncing the folder after every rename costs one more journal commit per file on ext4 (a few
/// milliseconds each, measured); a writer of many small files that records its progress in a
/// journal (the pipeline) can instead pass a batch in `AtomicWriteOptions.folderSyncs` and call
/// `syncAll()` right before it fsyncs the journal lines that promise those files exist. A file
/// is then complete under its final name as always; only its survival of a power loss waits
/// for `syncAll()`. Thread-safe.
public final class FolderSyncBatch: @unchecked Sendable {
    private var folders = Set<String>()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Remembers `folder` for the next `syncAll()`.
    public func add(_ folder: String) {
        pthread_mutex_lock(mutex)
        folders.insert(folder)
        pthread_mutex_unlock(mutex)
    }

    /// The folders waiting to be synced, sorted.
    public var pendingFolders: [String] {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return folders.sorted()
    }

    /// fsyncs every folder added since the last call and forgets them. Returns the folders that
    /// could not be synced (gone, or a file system that refuses); their files are complete
    /// either way, so callers usually ignore this.
    @discardableResult
    public func syncAll() -> [String] {
        pthread_mutex_lock(mutex)
        let batch = folders
        folders.removeAll(keepingCapacity: true)
        pthread_mutex_unlock(mutex)
        return batch.sorted().filter { !AtomicFileWriter.syncFolder($0) }
    }
}
