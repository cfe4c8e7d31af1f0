import Foundation
import XCTest

/// Runs the `smisprep` built beside this test bundle (skips the test when it is not built).
enum SmisprepProcess {
    static func binary() throws -> URL {
        #if os(macOS)
            let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }!.bundleURL.deletingLastPathComponent()
        #else
            let products = Bundle.main.bundleURL
        #endif
        let binary = products.appendingPathComponent("smisprep")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("smisprep is not built") }
        return binary
    }

    /// Exit status, standard output and standard error of one run.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        // Help text wraps at the terminal width: fix it so snapshots compare.
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"]) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes at once: a full standard-error pipe would otherwise block the child.
        let errorBox = DataBox()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { errorBox.data = errors.fileHandleForReading.readDataToEndOfFile() }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        reading.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: errorBox.data, as: UTF8.self))
    }
}

private final class DataBox: @unchecked Sendable { var data = Data() }
