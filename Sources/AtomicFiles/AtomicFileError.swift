#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed. Always names the final path (the file the caller asked for),
/// the step that failed and the system's errno, so a report can say which file, what happened
/// and why. When it is thrown, nothing is left behind: the temporary file has been removed
/// and the final name holds what it held before (nothing, or the old complete file).
public struct AtomicFileError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The step of an atomic write that failed, in the order they run.
    public enum Step: String, Equatable, Sendable {
        /// Creating a missing parent folder (only with `AtomicWriteOptions.createFolders`).
        case createFolder = "cannot create the folder"
        /// Creating the temporary file beside the final name (missing or read-only folder).
        case createTemporary = "cannot create a temporary file"
        /// Writing the contents (a full disk usually shows here).
        case write = "cannot write"
        /// fdatasync/fsync of the temporary file (delayed write errors, a full disk on some file
        /// systems).
        case flush = "cannot flush to disk"
        /// close of the temporary file (network file systems report late errors here).
        case close = "cannot close"
        /// Renaming the temporary file over the final name.
        case rename = "cannot rename into place"
        /// `write` or `commit` on a writer that was already committed, discarded or failed.
        case finished = "the writer is already finished"
    }

    /// The final path that was being written.
    public var path: String
    /// The step that failed.
    public var step: Step
    /// The `errno` value the system reported (`ENOSPC`, `EACCES`, `ENOENT`, …).
    public var code: Int32
    /// For `.write`, how many bytes had been written before the failure; nil otherwise.
    public var byteOffset: Int?
    /// The path the step worked on when it is not `path` itself (the temporary file, or the
    /// folder being created); nil when it is `path`.
    public var detailPath: String?

    public init(path: String, step: Step, code: Int32, byteOffset: Int? = nil, detailPath: String? = nil) {
        self.path = path
        self.step = step
        self.code = code
        self.byteOffset = byteOffset
        self.detailPath = detailPath
    }

    /// True when the disk (ENOSPC) or the user's quota (EDQUOT) is full.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }

    /// The system's text for `code`, e.g. "No space left on device".
    public var reason: String { String(cString: strerror(code)) }

    /// The message without the path, e.g. "cannot write at byte 4096: No space left on device
    /// (the disk is full; free some space or write elsewhere)". Wrapping error types put this
    /// after their own file name.
    public var message: String {
        var text = step.rawValue
        if let detailPath { text += " \(detailPath)" }
        if let byteOffset { text += " at byte \(byteOffset)" }
        text += ": \(reason)"
        if code == ENOSPC { text += " (the disk is full; free some space or write elsewhere)" }
        if code == EDQUOT { text += " (the disk quota is exceeded; free some space or write elsewhere)" }
        return text
    }

    /// "PATH: MESSAGE".
    public var description: String { "\(path): \(message)" }
}
