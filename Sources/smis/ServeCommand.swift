import ArgumentParser
import Foundation
import Logging
import Serve
import Tensor

/// `smis serve`: a local web page over a trained checkpoint (see the README's "The web page").
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a local web page to edit label maps and resample, mix and morph appearances.",
        discussion: """
            Listens on 127.0.0.1 only unless --host is given. The page offers the label maps of the \
            shards' validation split (by index) or an uploaded PNG of class ids; uploads are limited \
            in bytes and pixels. The model runs on one worker thread; --queue requests may wait for \
            it, one more is answered 503. The checkpoint and the shards are only read. Ctrl-C stops.
            """)

    @Option(
        help: ArgumentHelp(
            "A checkpoint folder, its state.json, or a run folder (its latest checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Shards whose validation split gives the label maps to pick from.", valueName: "dir"))
    var shards: String?

    @Option(help: "Port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(help: ArgumentHelp("Address to listen on (127.0.0.1: this machine only).", valueName: "address"))
    var host: String = ServeConfiguration.loopback

    @Option(help: ArgumentHelp("Largest upload accepted, in bytes (20 MiB).", valueName: "bytes"))
    var maxUploadBytes: Int = 20 << 20

    @Option(help: ArgumentHelp("Largest width × height of an uploaded image (4096 × 4096).", valueName: "n"))
    var maxUploadPixels: Int = 4096 * 4096

    @Option(
        name: .customLong("queue"),
        help: ArgumentHelp("Requests that may wait for the model while one runs.", valueName: "n"))
    var queueCapacity: Int = 4

    @Option(
        name: .customLong("sessions"),
        help: ArgumentHelp("Open pages whose state the server keeps (oldest dropped).", valueName: "n"))
    var sessionCapacity: Int = 32

    @Option(help: "Seed of the pages' random draws.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535.") }
        guard maxUploadBytes >= 1 else { throw ValidationError("--max-upload-bytes must be at least 1.") }
        guard maxUploadPixels >= 1 else { throw ValidationError("--max-upload-pixels must be at least 1.") }
        guard queueCapacity >= 1 else { throw ValidationError("--queue must be at least 1.") }
        guard sessionCapacity >= 1 else { throw ValidationError("--sessions must be at least 1.") }
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        let configuration = ServeConfiguration(
            checkpoint: URL(fileURLWithPath: checkpoint), shards: shards.map { URL(fileURLWithPath: $0) }, host: host,
            port: port, maxUploadBytes: maxUploadBytes, maxUploadPixels: maxUploadPixels, queueCapacity: queueCapacity,
            sessionCapacity: sessionCapacity, seed: seed)
        let server = try reportingErrors { try PageServer(configuration: configuration) }
        if configuration.bindsBeyondLoopback {
            printError(
                "warning: --host \(host) makes the page reachable from other machines on that address; "
                    + "it has no authentication.")
        }
        let display = host.contains(":") ? "[\(host)]" : host
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        // The server is async; this command is not: it waits here until the server ends.
        Task.detached {
            do {
                var logger = Logger(label: "smis-serve")
                logger.logLevel = .warning
                try await server.run(handleSignals: true, logger: logger) { port in
                    print("Serving http://\(display):\(port)/ (Ctrl-C stops)")
                    fflush(stdout)
                }
            } catch { failure = error }
            finished.signal()
        }
        finished.wait()
        if let failure { try reportingErrors { throw failure } }
    }
}
