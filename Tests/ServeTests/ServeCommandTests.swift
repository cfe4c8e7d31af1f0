import Foundation
import XCTest
import _TestSupport
import _TrainingTestSupport

/// `smis serve` as a user starts it: loopback by default, a warning for another address, Ctrl-C
/// ends it cleanly, and bad options or a missing checkpoint are errors that say so.
final class ServeCommandTests: TemporaryFolderTestCase {
    func testTheCommandListensOnLoopbackAndWarnsForAnotherHost() throws {
        let (run, shards) = try tinyCheckpoint()
        let common = ["serve", "--checkpoint", run.path, "--shards", shards.path, "--port", "0"]
        let local = try BuiltTool.run("smis", common, interruptAfter: "(Ctrl-C stops)")
        XCTAssertEqual(local.status, 0, "Ctrl-C ends the server cleanly: \(local.errors)")
        XCTAssertTrue(local.output.hasPrefix("Serving http://127.0.0.1:"), local.output)
        XCTAssertEqual(local.errors, "", "no warning on loopback")

        // 127.0.0.2 is loopback too (no traffic leaves the machine), but not the default address.
        let other = try BuiltTool.run("smis", common + ["--host", "127.0.0.2"], interruptAfter: "(Ctrl-C stops)")
        XCTAssertEqual(other.status, 0, other.errors)
        XCTAssertTrue(other.output.hasPrefix("Serving http://127.0.0.2:"), other.output)
        XCTAssertTrue(
            other.errors.contains("warning: --host 127.0.0.2 makes the page reachable from other machines"),
            other.errors)

        let missing = folder.appendingPathComponent("no-run").path
        let absent = try BuiltTool.run("smis", ["serve", "--checkpoint", missing])
        XCTAssertEqual(absent.status, 1)
        XCTAssertTrue(absent.errors.contains(missing), absent.errors)
        let badPort = try BuiltTool.run("smis", ["serve", "--checkpoint", run.path, "--port", "70000"])
        XCTAssertNotEqual(badPort.status, 0)
        XCTAssertTrue(badPort.errors.contains("--port must be 0…65535."), badPort.errors)
    }
}
