import Foundation
import Hummingbird
import Logging
import Statistics

/// `smis serve`: the page and its JSON API over HTTP (Hummingbird), the model on one worker
/// thread behind a bounded queue, per-page state in a bounded store.
public final class PageServer: @unchecked Sendable {
    public let configuration: ServeConfiguration
    let queue: InferenceQueue<Studio>
    let store: SessionStore
    let info: ServerInfo

    /// Loads the checkpoint (read only) and opens the shards; serving starts with `run`.
    public init(configuration: ServeConfiguration) throws {
        self.configuration = configuration
        let studio = try Studio(checkpoint: configuration.checkpoint, shards: configuration.shards)
        let table = LabelSet(targetClasses: studio.synthesizer.classes)
        info = ServerInfo(
            classes: studio.synthesizer.classes.enumerated().map { id, name in
                let colour = LabelColours.colour(of: id, in: table)
                return .init(
                    id: id, name: name, colour: String(format: "#%02x%02x%02x", colour.red, colour.green, colour.blue))
            },
            width: studio.configuration.imageWidth, height: studio.configuration.imageHeight, split: studio.split,
            records: studio.recordCount, maxUploadBytes: configuration.maxUploadBytes,
            maxUploadPixels: configuration.maxUploadPixels, queueCapacity: configuration.queueCapacity,
            routes: ServerInfo.routeList)
        queue = InferenceQueue(capacity: max(1, configuration.queueCapacity), worker: studio)
        store = SessionStore(capacity: configuration.sessionCapacity, seed: configuration.seed)
    }

    deinit { queue.stop() }

    /// The model's classes, by id.
    public var classes: [String] { info.classes.map(\.name) }
    /// Records of the shards' split the page can choose by index.
    public var recordCount: Int { info.records }

    /// Serves until the task is cancelled (or, with `handleSignals`, until SIGINT or SIGTERM),
    /// calling `onRunning` with the bound port once connections are accepted. Hummingbird's
    /// messages go to `logger` (by default nowhere: the library does not print).
    public func run(
        handleSignals: Bool = false,
        logger: Logger = Logger(label: "smis-serve", factory: { _ in SwiftLogNoOpLogHandler() }),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: SameOriginMiddleware(loopbackOnly: !configuration.bindsBeyondLoopback))
        let parser = RequestParser(
            maxUploadBytes: configuration.maxUploadBytes, maxUploadPixels: configuration.maxUploadPixels)
        ServeRoutes(store: store, queue: queue, parser: parser, info: info).register(on: router)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        defer { queue.stop() }
        if handleSignals { try await application.runService() } else { try await application.run() }
    }
}
