import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

extension BuiltTool {
    /// Runs `name` with `arguments` under a plan that stops it (`SMIS_FAULT=stop:POINT:N` in
    /// `environment`, see `AtomicFiles.FaultPoint`): waits until the process has stopped itself,
    /// calls `whileStopped` (which may change files the process reads), continues the process
    /// and waits for its end. No timing: the stop is an event of the process, seen through
    /// `waitpid` with `WUNTRACED`. The output goes to files in `scratch`, so a stopped process
    /// never holds a pipe the test would wait on. Fails the test when the process ends without
    /// stopping (then `whileStopped` is not called).
    public static func runStopping(
        _ name: String, _ arguments: [String], environment: [String: String], scratch: URL,
        file: StaticString = #filePath, line: UInt = #line, whileStopped: () throws -> Void
    ) throws -> Result {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let outputFile = scratch.appendingPathComponent("\(name)-stdout.txt")
        let errorsFile = scratch.appendingPathComponent("\(name)-stderr.txt")
        let pid = try spawn(
            executable(name), arguments, environment: environment, output: outputFile, errors: errorsFile)
        var status = waitForChange(pid, options: WUNTRACED)
        if status & 0xFF == 0x7F {  // stopped
            do {
                try whileStopped()
            } catch {
                kill(pid, SIGKILL)
                _ = waitForChange(pid, options: 0)
                throw error
            }
            kill(pid, SIGCONT)
            status = waitForChange(pid, options: 0)
        } else {
            XCTFail("\(name) \(arguments) ended without stopping", file: file, line: line)
        }
        let signal = status & 0x7F
        return (
            signal == 0 ? (status >> 8) & 0xFF : signal,
            try String(contentsOf: outputFile, encoding: .utf8), try String(contentsOf: errorsFile, encoding: .utf8)
        )
    }

    /// Starts the process with standard output and error going to the two files, standard
    /// input from /dev/null, and this process's environment with `environment` added.
    private static func spawn(
        _ executable: URL, _ arguments: [String], environment: [String: String], output: URL, errors: URL
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let variables = ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"].merging(environment) { $1 }) {
            $1
        }
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        guard code == 0 else {
            throw NSError(
                domain: NSPOSIXErrorDomain, code: Int(code),
                userInfo: [
                    NSLocalizedDescriptionKey: "posix_spawn \(executable.path): \(String(cString: strerror(code)))"
                ])
        }
        return pid
    }

    /// `waitpid`'s status for `pid`, retried on EINTR.
    private static func waitForChange(_ pid: pid_t, options: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, options) == -1 && errno == EINTR {}
        return status
    }
}
