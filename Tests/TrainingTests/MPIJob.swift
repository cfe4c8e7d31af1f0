import Foundation
import XCTest
import _TestSupport

/// A job of the built `smis` under `mpirun`, for the data-parallel tests: started, watched (its
/// output read as it comes), signalled by process id, and waited for with a bound, after which
/// it is killed, so that a hang fails the test instead of stalling the suite.
final class MPIJob {
    /// `mpirun`, or a skip when Open MPI is not installed.
    static func mpirun() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") + ["/usr/bin"] {
            let candidate = "\(folder)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw XCTSkip("mpirun is not installed (scripts/setup installs openmpi-bin): the MPI tests skip")
    }

    /// Options every local job needs: two ranks may share the machine's cores (CI has two), and
    /// Open MPI refuses to run as root, which CI is, unless told.
    static var localOptions: [String] { ["--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : []) }

    /// `mpirun` running `smis` as `ranks` local ranks with `arguments`, one tensor thread each.
    static func start(ranks: Int, _ arguments: [String], mpiOptions: [String] = []) throws -> MPIJob {
        let smis = try BuiltTool.executable("smis").path
        return try MPIJob(command: [try mpirun()] + localOptions + mpiOptions + ["-np", "\(ranks)", smis] + arguments)
    }

    let process = Process()
    private let lock = NSCondition()
    private var outputData = Data()
    private var errorData = Data()
    private let outputPipe = Pipe(), errorPipe = Pipe()

    /// Starts `command` (an executable and its arguments), with one tensor thread per process.
    init(command: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment
            .merging(["TENSOR_THREADS": "1", "COLUMNS": "80"].merging(environment) { $1 }) { $1 }
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        for (pipe, isOutput) in [(outputPipe, true), (errorPipe, false)] {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                guard let self, !chunk.isEmpty else { return }
                self.lock.lock()
                if isOutput { self.outputData.append(chunk) } else { self.errorData.append(chunk) }
                self.lock.broadcast()
                self.lock.unlock()
            }
        }
        try process.run()
    }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: outputData, as: UTF8.self)
    }

    var errors: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errorData, as: UTF8.self)
    }

    /// Waits until standard output contains `marker`; false when the job ended or `seconds`
    /// passed first.
    func waitForOutput(_ marker: String, seconds: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if String(decoding: outputData, as: UTF8.self).contains(marker) { return true }
            if !process.isRunning || Date() >= deadline { return false }
            _ = lock.wait(until: Date().addingTimeInterval(0.2))
        }
    }

    /// The process ids of the ranks: `mpirun`'s `smis` children (local ranks only).
    func rankProcesses() -> [pid_t] {
        let parent = process.processIdentifier
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let name = stat[stat.index(after: stat.firstIndex(of: "(")!)..<close]
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return name == "smis" && fields.count > 1 && pid_t(fields[1]) == parent
        }.sorted()
    }

    /// Waits for the job's end: its exit status, or nil when `seconds` passed, after which the
    /// job and its ranks are killed.
    func wait(seconds: TimeInterval = 120) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            for rank in rankProcesses() { kill(rank, SIGKILL) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            finishReading()
            return nil
        }
        process.waitUntilExit()
        finishReading()
        return process.terminationStatus
    }

    private func finishReading() {
        for (pipe, isOutput) in [(outputPipe, true), (errorPipe, false)] {
            pipe.fileHandleForReading.readabilityHandler = nil
            let rest = pipe.fileHandleForReading.readDataToEndOfFile()
            lock.lock()
            if isOutput { outputData.append(rest) } else { errorData.append(rest) }
            lock.unlock()
        }
    }
}
