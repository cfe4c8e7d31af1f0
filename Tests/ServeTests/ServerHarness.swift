import Foundation
import ImageIO
import Training
import XCTest
import _TestSupport
import _TrainingTestSupport

@testable import Serve

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One answer of the server: status, body, and the body as a JSON object when it is one.
struct HTTPReply {
    let status: Int
    let body: Data
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// The `error` sentence of a refusal.
    var error: String { json["error"] as? String ?? "" }
    /// The generated image of an action's reply, decoded.
    func image() throws -> Image {
        let base64 = try XCTUnwrap(json["image"] as? String, String(decoding: body.prefix(300), as: UTF8.self))
        let png = try XCTUnwrap(Data(base64Encoded: base64))
        return try png.withUnsafeBytes { try Image(decoding: $0, source: "reply") }
    }
    /// The label map of an action's reply, one class id a byte.
    var label: [UInt8] { (json["label"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }
}

/// `smis serve` started in this process on an ephemeral loopback port, spoken to over HTTP.
final class RunningServer: @unchecked Sendable {
    let server: PageServer
    let port: Int
    private let task: Task<Void, Error>
    private let session: URLSession

    private init(server: PageServer, port: Int, task: Task<Void, Error>) {
        (self.server, self.port, self.task) = (server, port, task)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        configuration.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: configuration)
    }

    static func start(_ configuration: ServeConfiguration) async throws -> RunningServer {
        var configuration = configuration
        configuration.port = 0
        let server = try PageServer(configuration: configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            defer { continuation.finish() }  // a server that fails to start ends the wait below
            try await server.run { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        let announced = await iterator.next()
        let port = try XCTUnwrap(announced, "the server did not start")
        XCTAssertGreaterThan(port, 0)
        return RunningServer(server: server, port: port, task: task)
    }

    var base: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        session.invalidateAndCancel()
    }

    func send(
        _ method: String, _ path: String, body: Data? = nil, contentType: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> HTTPReply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        return HTTPReply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// A new page session's id.
    func newSession() async throws -> String {
        let reply = try await send("POST", "/api/sessions")
        XCTAssertEqual(reply.status, 201)
        return try XCTUnwrap(reply.json["session"] as? String)
    }

    func json(_ value: Any) -> Data { try! JSONSerialization.data(withJSONObject: value) }

    /// Waits (bounded, polling the queue) until `count` requests wait for the model.
    func waitUntilWaiting(_ count: Int) async throws {
        for _ in 0..<2000 where server.queue.load.waiting != count { try await Task.sleep(nanoseconds: 5_000_000) }
        XCTAssertEqual(server.queue.load.waiting, count, "requests waiting for the model")
    }
}

/// A door before each job of the worker: while closed, a job reports that it started and waits
/// to be let through, so that tests decide what runs when without timing.
final class WorkerGate: @unchecked Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var closed = false
    private var arrived = 0

    func install(on server: PageServer) { server.queue.beforeEachJob = { [self] in self.pass() } }

    func close() { lock.withLock { closed = true } }

    /// Waits (bounded, polling, without blocking a thread of the test's executor) until `expected`
    /// jobs in all have come to the closed door.
    func waitForArrivals(_ expected: Int) async throws {
        for _ in 0..<20000 where lock.withLock({ arrived }) < expected { try await Task.sleep(nanoseconds: 5_000_000) }
        XCTAssertEqual(lock.withLock { arrived }, expected, "a job reached the gate")
    }

    func open() {
        lock.withLock { closed = false }
        release.signal()
    }

    private func pass() {
        guard lock.withLock({ closed }) else { return }
        lock.withLock { arrived += 1 }
        release.wait()
    }
}

extension TemporaryFolderTestCase {
    /// A tiny-preset run trained for one step on synthetic shards (two validation records).
    func tinyCheckpoint() throws -> (run: URL, shards: URL) {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 4)
        _ = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false).run()
        return (folder.appendingPathComponent("run"), shards)
    }
}
