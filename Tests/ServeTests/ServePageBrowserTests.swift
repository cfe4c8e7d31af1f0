import Foundation
import ImageIO
import XCTest
import _TestSupport
import _TrainingTestSupport

@testable import Serve

/// The page in headless Chromium over WebDriver: it loads a record's image, a click on a class's
/// resample button brings a new image, and a screenshot goes to `.build/artifacts/`. Waits poll
/// the page (bounded); no sleep is an assertion. Skips where Chromium cannot be installed.
final class ServePageBrowserTests: TemporaryFolderTestCase {
    func testClickingAClassResamplesItsAppearanceInTheBrowser() async throws {
        _ = try WebDriver.executables()
        let (run, shards) = try tinyCheckpoint()
        let server = try await RunningServer.start(ServeConfiguration(checkpoint: run, shards: shards))
        let browser = try await WebDriver(profile: folder.appendingPathComponent("profile"))
        do {
            try await browser.open(server.base)
            let output = try await browser.element("#output")
            let first = try await waitForImage(browser, output, after: "0")
            let firstSource = try await browser.attribute("src", of: output)
            XCTAssertTrue(firstSource?.hasPrefix("data:image/png;base64,") == true)

            try await browser.click(try await browser.element("#resample-3"))
            _ = try await waitForImage(browser, output, after: first)
            let secondSource = try await browser.attribute("src", of: output)
            XCTAssertNotEqual(secondSource, firstSource, "resampling top-clothes changes the image")
            let timing = try await browser.text(of: try await browser.element("#timing"))
            XCTAssertTrue(timing.contains("resample top-clothes:") && timing.contains("ms from click to image"), timing)
            let error = try await browser.text(of: try await browser.element("#error"))
            XCTAssertEqual(error, "", "the page shows no error")

            let screenshot = try await browser.screenshot()
            let image = try screenshot.withUnsafeBytes { try Image(decoding: $0, source: "screenshot") }
            XCTAssertGreaterThan(image.width, 500)
            let artifacts = TestPaths.repositoryRoot.appendingPathComponent(".build/artifacts")
            try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            try screenshot.write(to: artifacts.appendingPathComponent("serve-page.png"))
        } catch {
            browser.quit()
            await server.stop()
            throw error
        }
        browser.quit()
        await server.stop()
    }

    /// The request number of the image `output` shows once it is another than `after`
    /// (polling the DOM, at most about a minute).
    private func waitForImage(_ browser: WebDriver, _ output: String, after: String) async throws -> String {
        for _ in 0..<600 {
            if let shown = try await browser.attribute("data-request", of: output), shown != after { return shown }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let error = try await browser.text(of: try await browser.element("#error"))
        XCTFail("the image did not change from request \(after); the page says: \(error)")
        return after
    }
}
