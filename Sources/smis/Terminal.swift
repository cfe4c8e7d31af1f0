import ArgumentParser
import Foundation

// What `smis` writes to the terminal besides its results: problems and notices go to standard
// error, one line each, so that standard output stays the run's record (progress lines, file
// names) for a pipe or a log.

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs `body`, turning library errors into ArgumentParser's "Error: …" with exit code 1, so
/// every command renders problems the same way (the message names the file; a hint follows).
func reportingErrors<Result>(_ body: () throws -> Result) throws -> Result {
    do { return try body() } catch let error as ValidationError { throw error } catch {
        printError("Error: \(error)")
        throw ExitCode.failure
    }
}
