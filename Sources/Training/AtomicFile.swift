import AtomicFiles
import Foundation

/// Writes Training's small files (options, state, `latest`, generated images) with
/// `AtomicFileWriter`: a crash leaves the old file or the whole new one. Failures become
/// ``TrainingError/checkpoint(file:reason:)`` naming the file.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        do {
            try data.withUnsafeBytes { try AtomicFileWriter.write($0, to: url.path) }
        } catch let error as AtomicFileError {
            throw TrainingError.checkpoint(file: url.path, reason: error.message)
        }
    }

    /// Flushes a folder's entries (after a rename into it); a failure is ignored because the
    /// files in it are complete either way.
    static func syncFolder(_ folder: URL) {
        AtomicFileWriter.syncFolder(folder.path)
    }
}
