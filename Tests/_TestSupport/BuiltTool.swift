import Foundation
import XCTest

/// The command-line tools of this repository (`smisprep`, `smis`), run as child processes by
/// end-to-end tests.
public enum BuiltTool {
    /// What one run printed and how it ended.
    public typealias Result = (status: Int32, output: String, errors: String)

    /// The built `name`: beside the running test bundle (whatever the build folder), else in
    /// `.build/release` or `.build/debug`. Skips the calling test when it is not built.
    public static func executable(_ name: String) throws -> URL {
        #if os(macOS)
        let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL
            .deletingLastPathComponent()
        #else
        let products: URL? = Bundle.main.bundleURL
        #endif
        let candidates =
            [products].compactMap { $0 }
            + ["release", "debug"].map {
                TestPaths.repositoryRoot.appendingPathComponent(".build/\($0)")
            }
        for folder in candidates {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("\(name) is not built (swift build --build-tests builds it)")
    }

    /// Runs `name` with `arguments` to its end. `environment` is added to this process's, with
    /// `COLUMNS=80` so that help text wraps the same everywhere. With `interruptAfter`, sends
    /// SIGINT (Ctrl-C) once standard output contains that text. Standard error is read while
    /// standard output is, so a child that fills one pipe never blocks.
    public static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], interruptAfter marker: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = try executable(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"].merging(environment) { $1 })
        { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorBox = DataBox()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) {
            errorBox.data = errors.fileHandleForReading.readDataToEndOfFile()
        }
        var outputData = Data()
        if let marker {
            while !String(decoding: outputData, as: UTF8.self).contains(marker) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                outputData.append(chunk)
            }
            kill(process.processIdentifier, SIGINT)
        }
        outputData.append(output.fileHandleForReading.readDataToEndOfFile())
        reading.wait()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorBox.data, as: UTF8.self)
        )
    }

    private final class DataBox: @unchecked Sendable { var data = Data() }
}
