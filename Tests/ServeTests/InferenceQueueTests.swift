import Foundation
import XCTest
import _TestSupport
import _TrainingTestSupport

@testable import Serve

/// The worker queue over loopback, made deterministic by a gate before each job: a newer request
/// of a page supersedes its older ones (409), a full queue answers 503, and the server answers
/// while the model is busy.
final class InferenceQueueTests: TemporaryFolderTestCase {
    func testANewerRequestFromThePageSupersedesTheOlderOnes() async throws {
        let (run, shards) = try tinyCheckpoint()
        let server = try await RunningServer.start(ServeConfiguration(checkpoint: run, shards: shards))
        let gate = WorkerGate()
        gate.install(on: server.server)
        let id = try await server.newSession()
        let chosen = try await server.send("POST", "/api/sessions/\(id)/record?index=0&request=1")
        XCTAssertEqual(chosen.status, 200, chosen.error)

        gate.close()
        @Sendable func resample(_ request: Int, _ classIndex: Int) async throws -> HTTPReply {
            try await server.send(
                "POST", "/api/sessions/\(id)/resample?request=\(request)", body: server.json(["class": classIndex]))
        }
        async let running = resample(2, 3)
        try await gate.waitForArrivals(1)  // request 2 is on the worker
        async let waiting = resample(3, 4)
        try await server.waitUntilWaiting(1)
        // Request 4 replaces the waiting request 3 at once, and marks the running request 2.
        async let newest = resample(4, 5)
        let superseded = try await waiting
        XCTAssertEqual(superseded.status, 409, superseded.error)
        XCTAssertTrue(superseded.error.contains("superseded by a newer request"), superseded.error)
        let status = try await server.send("GET", "/api/status").json
        XCTAssertEqual(status["running"] as? Int, 1, "the server answers while the model is busy")
        XCTAssertEqual(status["waiting"] as? Int, 1)
        gate.open()
        let (old, new) = try await (running, newest)
        XCTAssertEqual(old.status, 409, "a superseded running request answers 409 when it ends: \(old.error)")
        XCTAssertEqual(new.status, 200, new.error)
        XCTAssertNotEqual(try new.image().pixels, try chosen.image().pixels)
        let stale = try await resample(3, 1)
        XCTAssertEqual(stale.status, 409, "a number below the page's last is superseded: \(stale.error)")
        await server.stop()
    }

    func testAFullQueueAnswers503WithASentence() async throws {
        let (run, shards) = try tinyCheckpoint()
        let server = try await RunningServer.start(
            ServeConfiguration(checkpoint: run, shards: shards, queueCapacity: 1))
        let gate = WorkerGate()
        gate.install(on: server.server)
        let pages = [try await server.newSession(), try await server.newSession(), try await server.newSession()]
        @Sendable func choose(_ page: String) async throws -> HTTPReply {
            try await server.send("POST", "/api/sessions/\(page)/record?index=0&request=1")
        }
        gate.close()
        async let first = choose(pages[0])
        try await gate.waitForArrivals(1)
        async let second = choose(pages[1])
        try await server.waitUntilWaiting(1)
        let refused = try await choose(pages[2])
        XCTAssertEqual(refused.status, 503)
        XCTAssertTrue(refused.error.contains("1 requests are waiting already"), refused.error)
        gate.open()
        let (one, two) = try await (first, second)
        XCTAssertEqual([one.status, two.status], [200, 200], "\(one.error) \(two.error)")
        let again = try await server.send("POST", "/api/sessions/\(pages[2])/record?index=0&request=2")
        XCTAssertEqual(again.status, 200, "the refused page can go on: \(again.error)")
        await server.stop()
    }
}
