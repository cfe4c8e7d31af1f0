import AtomicFiles
import Foundation

/// Writes the pipeline's outputs so that a final name only ever holds complete contents
/// (temporary file in the same folder, fsync, rename, folder sync; see `AtomicFileWriter`).
/// A crash leaves at most a hidden `.NAME.partial-*` file, never a half-written final file.
public enum AtomicFile {
    /// A failed write: the path concerned and what went wrong (the step and the system's
    /// reason; a full disk says so).
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        init(_ error: AtomicFileError) {
            self.init(path: error.path, message: error.message)
        }
    }

    /// Writes `bytes` to `path`, creating parent folders. `durable: false` skips the fsyncs
    /// (tests and throw-away outputs).
    public static func write(_ bytes: [UInt8], to path: String, durable: Bool = true) throws {
        try write(bytes, to: path, durable: durable, folderSyncs: nil)
    }

    /// As above; with `folderSyncs`, the folder sync is left to the batch (the runner's journal
    /// syncs it before recording the sample).
    static func write(_ bytes: [UInt8], to path: String, durable: Bool, folderSyncs: FolderSyncBatch?) throws {
        let options = AtomicWriteOptions(durable: durable, createFolders: true, folderSyncs: folderSyncs)
        do { try AtomicFileWriter.write(bytes, to: path, options: options) } catch let error as AtomicFileError {
            throw WriteError(error)
        }
    }

    /// An open writer for `path` (folders created), for a caller that commits later.
    static func writer(for path: String, durable: Bool, folderSyncs: FolderSyncBatch?) throws -> AtomicFileWriter {
        let options = AtomicWriteOptions(durable: durable, createFolders: true, folderSyncs: folderSyncs)
        return try mapErrors { try AtomicFileWriter(path: path, options: options) }
    }

    /// Runs `body`, rethrowing an `AtomicFileError` as this module's `WriteError`.
    static func mapErrors<Result>(_ body: () throws -> Result) throws -> Result {
        do { return try body() } catch let error as AtomicFileError { throw WriteError(error) }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String, durable: Bool = true) throws {
        try write(Array(text.utf8), to: path, durable: durable)
    }
}
