import Foundation

/// What `smis serve` is started with: where the model and the label maps come from, where it
/// listens, and the bounds that keep one page (or one hostile request) from taking the machine.
public struct ServeConfiguration: Sendable {
    /// The host bound when none is given: loopback only, so the page is reachable from this
    /// machine alone.
    public static let loopback = "127.0.0.1"

    /// A checkpoint folder, its state.json, or a run folder (its latest checkpoint); read only.
    public var checkpoint: URL
    /// A shard set whose validation split gives the label maps the page offers (by index);
    /// nil for a page that works on uploaded label maps only.
    public var shards: URL?
    public var host: String
    /// 0 asks the system for a free port (the tests do); the bound port is reported on start.
    public var port: Int
    /// Largest request body accepted (uploaded label maps and style photos), in bytes.
    public var maxUploadBytes: Int
    /// Largest width × height an uploaded image may declare; refused before decoding.
    public var maxUploadPixels: Int
    /// Requests that may wait for the model while one runs; one more answers 503.
    public var queueCapacity: Int
    /// Pages whose state (label map, z) the server keeps; the least recently used goes first.
    public var sessionCapacity: Int
    /// Seed of each page's random draws (z, resampled classes), mixed with the page's number.
    public var seed: UInt64

    public init(
        checkpoint: URL, shards: URL? = nil, host: String = ServeConfiguration.loopback, port: Int = 8080,
        maxUploadBytes: Int = 20 << 20, maxUploadPixels: Int = 4096 * 4096, queueCapacity: Int = 4,
        sessionCapacity: Int = 32, seed: UInt64 = 0
    ) {
        self.checkpoint = checkpoint
        self.shards = shards
        self.host = host
        self.port = port
        self.maxUploadBytes = maxUploadBytes
        self.maxUploadPixels = maxUploadPixels
        self.queueCapacity = queueCapacity
        self.sessionCapacity = sessionCapacity
        self.seed = seed
    }

    /// True when the server listens beyond this machine (the command then warns).
    public var bindsBeyondLoopback: Bool { !["127.0.0.1", "localhost", "::1"].contains(host) }
}
