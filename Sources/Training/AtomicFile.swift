import Foundation

/// Writes small files so that a crash leaves the old file or the whole new one: a hidden
/// temporary beside the target, fsync, rename, fsync of the folder.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        func failure(_ action: String) -> TrainingError {
            .checkpoint(file: url.path, reason: "\(action): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary.path)") }
        let written = data.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let result = Foundation.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if result < 0 { if errno == EINTR { continue }; return false }
                done += result
            }
            return fsync(descriptor) == 0
        }
        let closed = close(descriptor) == 0
        guard written, closed else {
            let error = failure("writing \(temporary.path) failed")
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            let error = failure("cannot rename \(temporary.path)")
            unlink(temporary.path)
            throw error
        }
        syncFolder(folder)
    }

    /// Flushes a folder's entries (after a rename into it).
    static func syncFolder(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY)
        if descriptor >= 0 { _ = fsync(descriptor); close(descriptor) }
    }
}
