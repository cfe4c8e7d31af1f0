import Foundation
import XCTest
import _TestSupport

/// Runs the `smisprep` built in this repository (release, else debug); skips the test when it
/// is not built.
enum SmisprepProcess {
    static var executable: URL {
        get throws {
            for configuration in ["release", "debug"] {
                let url = TestPaths.repositoryRoot.appendingPathComponent(".build/\(configuration)/smisprep")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw XCTSkip("smisprep is not built (swift build --build-tests builds it)")
        }
    }

    /// Exit status, standard output and standard error of one run.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Both pipes at once: a full standard-error pipe would otherwise block the child.
        let errorData = ErrorBox()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { errorData.data = errors.fileHandleForReading.readDataToEndOfFile() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        reading.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData.data, as: UTF8.self))
    }

    private final class ErrorBox: @unchecked Sendable { var data = Data() }
}
