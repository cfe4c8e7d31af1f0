import Foundation
import ImageIO
import Training
import XCTest
import _TestSupport
import _TrainingTestSupport

@testable import Serve

/// `smis serve` over loopback at the tiny preset: the page, each action of the JSON API, and that
/// the checkpoint is only read.
final class ServerTests: TemporaryFolderTestCase {
    func testThePageAndEachActionAnswer() async throws {
        let (run, shards) = try tinyCheckpoint()
        let before = try checkpointFiles(run)
        let server = try await RunningServer.start(ServeConfiguration(checkpoint: run, shards: shards))
        let page = try await server.send("GET", "/")
        XCTAssertEqual(page.status, 200)
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.contains("<canvas id=\"label-canvas\""), "the page has its canvas")
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "the page loads nothing from elsewhere")

        let info = try await server.send("GET", "/api/info").json
        let classes = try XCTUnwrap(info["classes"] as? [[String: Any]])
        XCTAssertEqual(classes.map { $0["name"] as? String }, SyntheticShards.classes)
        XCTAssertEqual(info["width"] as? Int, 64)
        XCTAssertEqual(info["records"] as? Int, 2)
        XCTAssertEqual(info["split"] as? String, "validation")

        let id = try await server.newSession()
        let chosen = try await server.send("POST", "/api/sessions/\(id)/record?index=1&request=1")
        XCTAssertEqual(chosen.status, 200, chosen.error)
        XCTAssertEqual(chosen.label, SyntheticShards.sample(number: 1001, size: 64, classCount: 8).label.values)
        let first = try chosen.image()
        XCTAssertEqual([first.width, first.height], [64, 64])

        let resampled = try await server.send(
            "POST", "/api/sessions/\(id)/resample?request=2", body: server.json(["class": "top-clothes"]))
        XCTAssertEqual(resampled.status, 200, resampled.error)
        XCTAssertNotEqual(try resampled.image().pixels, first.pixels, "a new top-clothes code changes the image")
        XCTAssertEqual(resampled.label, chosen.label, "resampling keeps the label map")

        // Semantic manipulation: class 3 painted over with class 4, z kept.
        let edited = chosen.label.map { $0 == 3 ? 4 : $0 }
        let relabelled = try await server.send(
            "PUT", "/api/sessions/\(id)/label?request=3", body: Data(edited), contentType: "application/octet-stream")
        XCTAssertEqual(relabelled.status, 200, relabelled.error)
        XCTAssertEqual(relabelled.label, edited)
        XCTAssertNotEqual(try relabelled.image().pixels, try resampled.image().pixels)

        let photo = try SyntheticShards.sample(number: 5, size: 64, classCount: 8).image.encodedPNG()
        let mixed = try await server.send(
            "POST", "/api/sessions/\(id)/mix?request=4&classes=top-clothes,0", body: Data(photo),
            contentType: "image/png")
        XCTAssertEqual(mixed.status, 200, mixed.error)

        // A morph at t = 0 is the image it starts from; at t = 1 another one.
        let start = try await server.send("POST", "/api/sessions/\(id)/morph?request=5", body: server.json(["t": 0]))
        XCTAssertEqual(start.status, 200, start.error)
        XCTAssertEqual(try start.image().pixels, try mixed.image().pixels)
        let end = try await server.send("POST", "/api/sessions/\(id)/morph?request=6", body: server.json(["t": 1]))
        XCTAssertNotEqual(try end.image().pixels, try mixed.image().pixels)
        // Mixture from a record: its photo read with its own label map.
        let fromRecord = try await server.send("POST", "/api/sessions/\(id)/mix?request=7&classes=hair,face&record=0")
        XCTAssertEqual(fromRecord.status, 200, fromRecord.error)
        XCTAssertNotEqual(try fromRecord.image().pixels, try end.image().pixels)
        XCTAssertEqual(fromRecord.label, edited, "a mixture keeps the page's label map")

        let status = try await server.send("GET", "/api/status").json
        XCTAssertEqual(status["waiting"] as? Int, 0)
        XCTAssertEqual(status["sessions"] as? Int, 1)
        await server.stop()
        XCTAssertEqual(try checkpointFiles(run), before, "the checkpoint is only read")
    }

    func testTheServerKeepsTheLastPagesOnly() async throws {
        let (run, shards) = try tinyCheckpoint()
        let server = try await RunningServer.start(
            ServeConfiguration(checkpoint: run, shards: shards, sessionCapacity: 2))
        let first = try await server.newSession()
        let second = try await server.newSession()
        let chosen = try await server.send("POST", "/api/sessions/\(first)/record?index=0&request=1")
        XCTAssertEqual(chosen.status, 200, "using the first page makes the second the least recently used")
        _ = try await server.newSession()
        let dropped = try await server.send("POST", "/api/sessions/\(second)/record?index=0&request=1")
        XCTAssertEqual(dropped.status, 404)
        XCTAssertTrue(dropped.error.contains("reload the page (the server keeps the last 2)"), dropped.error)
        let kept = try await server.send(
            "POST", "/api/sessions/\(first)/resample?request=2", body: server.json(["class": 0]))
        XCTAssertEqual(kept.status, 200, kept.error)
        let status = try await server.send("GET", "/api/status").json
        XCTAssertEqual(status["sessions"] as? Int, 2)
        await server.stop()
    }

    /// Every file of the run with its bytes and modification date.
    private func checkpointFiles(_ run: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: run, includingPropertiesForKeys: nil))
        for case let url as URL in enumerator where !url.hasDirectoryPath {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let date = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            files[url.path] = "\(try Data(contentsOf: url).hashValue) \(date)"
        }
        XCTAssertFalse(files.isEmpty)
        return files
    }
}
