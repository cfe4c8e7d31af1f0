import Foundation
import XCTest

/// Runs Python scripts for tests that check our files with other readers (tfrecord,
/// webdataset, TensorBoard): those tests skip, with the package to install, where python3 or
/// the package is missing.
public enum Python {
    /// Runs `script` with `arguments` (`sys.argv[1...]`) and returns what it printed. Skips the
    /// calling test when python3 is missing or `import <module>` fails, naming `package` to
    /// install; a script that fails is a test failure showing its standard error. `interpreter`
    /// is python3 on the PATH, or the path of another (a virtual environment's `bin/python`).
    public static func run(
        _ script: String, arguments: [String] = [], requiring module: String,
        package: String? = nil, interpreter: String = "python3", file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [interpreter, "-c", "import \(module)"]
        probe.standardError = FileHandle.nullDevice
        do { try probe.run() } catch { throw XCTSkip("\(interpreter) not found") }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            let name = package ?? module
            throw XCTSkip("Python package \(name) missing (pip install \(name))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter, "-c", script] + arguments
        // Standard error goes to a file, so that neither pipe can fill up and block the child.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("python-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let messages = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, "python failed: \(messages)", file: file, line: line)
        return String(decoding: data, as: UTF8.self)
    }
}
