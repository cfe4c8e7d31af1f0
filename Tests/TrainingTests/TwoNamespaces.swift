import Foundation
import XCTest

/// Two network namespaces joined by a veth pair (10.77.0.1 and 10.77.0.2), standing for two
/// machines: processes in them can only talk over TCP across the pair. `agent` is a remote
/// shell for `mpirun` (`--mca plm_rsh_agent`) that runs a command "on" an address by running
/// it in that address's namespace, as ssh would on another machine. Creating them needs root
/// (CAP_SYS_ADMIN and CAP_NET_ADMIN); where that fails, the calling test is skipped, saying why.
final class TwoNamespaces {
    let names: [String]
    let devices: [String]
    let addresses = ["10.77.0.1", "10.77.0.2"]
    let subnet = "10.77.0.0/24"
    /// The remote-shell script.
    let agent: URL
    private let ip: String

    init(folder: URL) throws {
        let candidates = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        guard let ip = candidates.first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("iproute2's ip is not installed: the network-namespace test skips")
        }
        self.ip = ip
        // Unique per process, so that parallel test processes never share a namespace.
        let tag = "\(getpid())"
        names = ["smis-\(tag)-a", "smis-\(tag)-b"]
        devices = ["vsm\(tag)a", "vsm\(tag)b"]
        agent = folder.appendingPathComponent("netns-agent.sh")
        let commands: [[String]] = [
            ["netns", "add", names[0]], ["netns", "add", names[1]],
            ["link", "add", devices[0], "type", "veth", "peer", "name", devices[1]],
            ["link", "set", devices[0], "netns", names[0]], ["link", "set", devices[1], "netns", names[1]],
            ["-n", names[0], "addr", "add", addresses[0] + "/24", "dev", devices[0]],
            ["-n", names[1], "addr", "add", addresses[1] + "/24", "dev", devices[1]],
            ["-n", names[0], "link", "set", devices[0], "up"], ["-n", names[1], "link", "set", devices[1], "up"],
            ["-n", names[0], "link", "set", "lo", "up"], ["-n", names[1], "link", "set", "lo", "up"],
        ]
        for command in commands {
            let (status, errors) = Self.run(ip, command)
            guard status == 0 else {
                remove()
                let failed = "ip " + command.joined(separator: " ")
                throw XCTSkip("this machine does not allow creating network namespaces (\(failed): "
                                  + "\(errors.trimmingCharacters(in: .whitespacesAndNewlines))): the TCP test skips")
            }
        }
        let script = """
            #!/bin/sh
            # mpirun's remote shell: "agent ADDRESS COMMAND…" runs COMMAND in the namespace of ADDRESS.
            address="$1"; shift
            case "$address" in
              \(addresses[0])) namespace=\(names[0]) ;;
              \(addresses[1])) namespace=\(names[1]) ;;
              *) echo "no namespace for $address" >&2; exit 1 ;;
            esac
            exec \(ip) netns exec "$namespace" /bin/sh -c "$*"

            """
        try script.write(to: agent, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent.path)
    }

    /// `command` run in the first namespace.
    func runInFirst(_ command: [String]) -> [String] { [ip, "netns", "exec", names[0]] + command }

    /// Bytes the first namespace's end of the pair has sent.
    func bytesSent() -> Int {
        let path = "/sys/class/net/\(devices[0])/statistics/tx_bytes"
        let (_, output) = Self.run(ip, ["netns", "exec", names[0], "/bin/cat", path], readOutput: true)
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Deletes both namespaces (and with them the pair).
    func remove() {
        for name in names { _ = Self.run(ip, ["netns", "delete", name]) }
    }

    /// Runs `executable` with `arguments`; its status and its standard error (or output).
    private static func run(_ executable: String, _ arguments: [String], readOutput: Bool = false) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        if readOutput { process.standardOutput = pipe } else { process.standardError = pipe }
        do { try process.run() } catch { return (-1, "\(error)") }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
