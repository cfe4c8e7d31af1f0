import ArgumentParser
import Foundation

/// Standard error: progress, notices and skipped inputs, kept apart from the results on
/// standard output so that those can be piped. The one way smisprep writes to it.
enum StandardError {
    /// Writes `line` and a newline.
    static func print(_ line: String) { write(line + "\n") }

    /// Writes `text` as it is (a progress line redrawn in place with `\r`).
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}

/// A failure of a command after its options were accepted; ArgumentParser prints it as
/// "Error: <message>" and exits with status 1, without the usage text.
struct PipelineCommandError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension ExitCode {
    /// The outputs were written, but some inputs were skipped (each is named on standard
    /// error). Distinct from 1, where the command failed, so a script can tell an incomplete
    /// set from no set.
    static let someInputsSkipped = ExitCode(3)
}

/// The most threads a `--jobs` or `--threads` may ask for: far more than any machine's cores,
/// and small enough that buffer sizes computed from it cannot overflow.
let maximumJobs = 1024
