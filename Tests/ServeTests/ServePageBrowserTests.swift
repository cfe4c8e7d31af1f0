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

    /// The other actions of the page: a brush stroke (the edited map goes to the server, z kept),
    /// a style photo chosen for mixture, the morph slider; each brings a new image.
    func testPaintingMixingAndMorphingEachBringANewImage() async throws {
        _ = try WebDriver.executables()
        let (run, shards) = try tinyCheckpoint()
        let photo = folder.appendingPathComponent("style.png")
        try Data(SyntheticShards.sample(number: 9, size: 64, classCount: 8).image.encodedPNG()).write(to: photo)
        let server = try await RunningServer.start(ServeConfiguration(checkpoint: run, shards: shards))
        let browser = try await WebDriver(profile: folder.appendingPathComponent("profile"))
        defer { browser.quit() }
        try await browser.open(server.base)
        let output = try await browser.element("#output")
        var shown = try await waitForImage(browser, output, after: "0")
        let countBackground = "return Array.from(page.label).filter(id => id === 7).length"
        let before = try await browser.execute(countBackground) as? Int ?? -1

        try await browser.click(try await browser.element("#class-7"))
        try await browser.drag(on: try await browser.element("#label-canvas"), from: (-120, 0), to: (120, 0))
        shown = try await waitForImage(browser, output, after: shown)
        let after = try await browser.execute(countBackground) as? Int ?? -1
        XCTAssertGreaterThan(after, before, "the stroke painted background, and the server's map says so")
        try await assertTiming(browser, starts: "label map:")

        try await browser.type(photo.path, into: try await browser.element("#style-file"))
        shown = try await waitForImage(browser, output, after: shown)
        try await assertTiming(browser, starts: "mix style.png:")
        try await browser.click(try await browser.element("#mix-from-record"))
        shown = try await waitForImage(browser, output, after: shown)
        try await assertTiming(browser, starts: "mix record 1:")

        _ = try await browser.execute(
            "const slider = document.getElementById('morph'); slider.value = 100; "
                + "slider.dispatchEvent(new Event('input'));")
        shown = try await waitForImage(browser, output, after: shown)
        try await assertTiming(browser, starts: "morph 1.00:")
        await server.stop()
    }

    private func assertTiming(_ browser: WebDriver, starts prefix: String) async throws {
        let timing = try await browser.text(of: try await browser.element("#timing"))
        XCTAssertTrue(timing.hasPrefix(prefix) && timing.contains("ms from click to image"), timing)
        let error = try await browser.text(of: try await browser.element("#error"))
        XCTAssertEqual(error, "", "the page shows no error")
    }

    /// Click-to-image latency as the page measures it (from the click to the decoded image), on a
    /// real checkpoint: not a check, a measurement for the README, so it runs only when asked:
    /// SMIS_SERVE_LATENCY_RUN=RUN SMIS_SERVE_LATENCY_SHARDS=DIR [SMIS_SERVE_LATENCY_CLICKS=N].
    func testClickToImageLatencyOnACheckpointWhenAsked() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let run = environment["SMIS_SERVE_LATENCY_RUN"], let shards = environment["SMIS_SERVE_LATENCY_SHARDS"]
        else { throw XCTSkip("a measurement: set SMIS_SERVE_LATENCY_RUN and SMIS_SERVE_LATENCY_SHARDS to run it") }
        _ = try WebDriver.executables()
        let server = try await RunningServer.start(
            ServeConfiguration(checkpoint: URL(fileURLWithPath: run), shards: URL(fileURLWithPath: shards)))
        let browser = try await WebDriver(profile: folder.appendingPathComponent("profile"))
        defer { browser.quit() }
        try await browser.open(server.base)
        let output = try await browser.element("#output")
        var shown = try await waitForImage(browser, output, after: "0")
        var lines: [String] = []
        let clicks = Int(environment["SMIS_SERVE_LATENCY_CLICKS"] ?? "") ?? 5
        for click in 0..<clicks {
            let classes = server.server.classes
            try await browser.click(
                try await browser.element("#resample-\([3, 4, 0, 1, 2][click % 5] % classes.count)"))
            shown = try await waitForImage(browser, output, after: shown)
            lines.append(try await browser.text(of: try await browser.element("#timing")))
        }
        print("click to image on \(run):\n" + lines.joined(separator: "\n"))
        XCTAssertEqual(lines.filter { $0.contains("ms from click to image") }.count, clicks, "\(lines)")
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
