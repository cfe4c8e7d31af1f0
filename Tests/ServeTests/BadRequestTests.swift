import Foundation
import ImageIO
import XCTest
import _TestSupport
import _TrainingTestSupport

@testable import Serve

/// Bad requests get a 4xx and a JSON sentence, and the server goes on answering.
final class BadRequestTests: TemporaryFolderTestCase {
    func testEachKindOfBadRequestIsRefusedWithASentence() async throws {
        let (run, shards) = try tinyCheckpoint()
        let server = try await RunningServer.start(
            ServeConfiguration(checkpoint: run, shards: shards, maxUploadBytes: 8000, maxUploadPixels: 64 * 64))
        let id = try await server.newSession()
        let chosen = try await server.send("POST", "/api/sessions/\(id)/record?index=0&request=1")
        XCTAssertEqual(chosen.status, 200, chosen.error)
        let label = "/api/sessions/\(id)/label"
        let raw = "application/octet-stream"
        let tooManyPixels = try LabelMap(width: 65, height: 64).encodedPNG()
        var corrupt = try LabelMap(width: 64, height: 64).encodedPNG()
        corrupt.removeLast(20)
        var badClass = LabelMap(width: 64, height: 64)
        badClass.values[5 * 64 + 7] = 9
        let cases: [(String, String, Data?, String?, Int, String)] = [
            ("PUT", label + "?request=2", Data(count: 9000), raw, 413, "at most 8000 bytes"),
            ("PUT", label + "?request=3", Data(tooManyPixels), "image/png", 413, "exceeds the limit of 4096 pixels"),
            ("PUT", label + "?request=4", Data(corrupt), "image/png", 400, "corrupt image"),
            ("PUT", label + "?request=5", Data([0x89, 0x50]), "image/png", 400, "not a PNG, JPEG or TIFF"),
            ("PUT", label + "?request=6", Data(count: 100), raw, 400, "64×64 = 4096 bytes; this one has 100"),
            ("PUT", label + "?request=7", Data(badClass.values), raw, 400, "class 9 at (x 7, y 5)"),
            ("PUT", label + "?request=8", nil, raw, 400, "no label map in its body"),
            (
                "POST", "/api/sessions/\(id)/resample?request=9", Data(#"{"class": "hat"}"#.utf8), nil, 400,
                "\"hat\" is not a class of this model"
            ),
            ("POST", "/api/sessions/\(id)/resample?request=10", Data(#"{"class": 8}"#.utf8), nil, 400, "ids 0…7"),
            ("POST", "/api/sessions/\(id)/resample?request=11", Data("{".utf8), nil, 400, "not the JSON this route"),
            ("POST", "/api/sessions/\(id)/resample?request=12", Data("{}".utf8), nil, 400, "\"class\" is missing"),
            ("POST", "/api/sessions/\(id)/resample", Data(#"{"class": 1}"#.utf8), nil, 400, "request number"),
            ("POST", "/api/sessions/\(id)/resample?request=x", Data(#"{"class": 1}"#.utf8), nil, 400, "whole number"),
            ("POST", "/api/sessions/\(id)/morph?request=13", Data(#"{"t": 2}"#.utf8), nil, 400, "t = 0 to t = 1"),
            ("POST", "/api/sessions/\(id)/record?request=14&index=2", nil, nil, 400, "validation split has 2"),
            ("POST", "/api/sessions/\(id)/record?request=15", nil, nil, 400, "?index=N"),
            ("POST", "/api/sessions/\(id)/mix?request=16", Data("JFIF".utf8), "image/jpeg", 400, "not a PNG"),
            ("POST", "/api/sessions/\(id)/mix?request=17&record=5", nil, nil, 400, "no record 5"),
            ("POST", "/api/sessions/\(id)/mix?request=18&record=0&classes=hat", nil, nil, 400, "\"hat\" is not"),
            ("POST", "/api/sessions/nobody/record?request=1&index=0", nil, nil, 404, "no page session"),
            ("GET", "/etc/passwd", nil, nil, 404, "no route"),
            ("GET", "/api/../../etc/passwd", nil, nil, 404, "no route"),
            ("POST", "/api/sessions/\(id)/resample?request=1", Data(#"{"class": 1}"#.utf8), nil, 409, "superseded")
        ]
        for (method, path, body, type, status, sentence) in cases {
            let reply = try await server.send(method, path, body: body, contentType: type)
            XCTAssertEqual(reply.status, status, "\(method) \(path): \(reply.error)")
            XCTAssertTrue(reply.error.contains(sentence), "\(method) \(path): \"\(reply.error)\" lacks \"\(sentence)\"")
            XCTAssertTrue(reply.error.hasSuffix("."), "a sentence: \(reply.error)")
        }
        let foreign = try await server.send("GET", "/api/info", headers: ["Origin": "http://evil.example"])
        XCTAssertEqual(foreign.status, 403, foreign.error)
        XCTAssertTrue(foreign.error.contains("another site"), foreign.error)
        let after = try await server.send(
            "POST", "/api/sessions/\(id)/resample?request=20", body: server.json(["class": 3]))
        XCTAssertEqual(after.status, 200, "the server goes on after every refusal: \(after.error)")
        XCTAssertEqual(after.label, chosen.label, "no refused request changed the page's label map")
        await server.stop()
    }

    func testOnlyLoopbackHostNamesPassTheHostCheck() {
        for host in ["127.0.0.1:8080", "localhost:80", "[::1]:8080", "localhost"] {
            XCTAssertTrue(LoopbackHost.matches(host), host)
        }
        for host in ["evil.example:8080", "127.0.0.1.evil.example", "[::2]:80", ""] {
            XCTAssertFalse(LoopbackHost.matches(host), host)
        }
        XCTAssertFalse(ServeConfiguration(checkpoint: URL(fileURLWithPath: "/")).bindsBeyondLoopback)
        XCTAssertTrue(ServeConfiguration(checkpoint: URL(fileURLWithPath: "/"), host: "0.0.0.0").bindsBeyondLoopback)
    }
}
