import Foundation
import Training
import XCTest
import _TestSupport

/// Opens a run's index.html in headless Chromium and asks the page itself, once loaded, how
/// many of its images decoded and how many SVG curves have an extent. A copy of the page with
/// that question appended as a script is what the browser opens (the page has no script of
/// its own); `--dump-dom` prints the answer. Skips when Chromium is not installed
/// (scripts/setup-browser installs it).
final class MonitorPageBrowserTests: TemporaryFolderTestCase {
    private static let probe = """
        <script>
        window.addEventListener("load", () => {
          const images = Array.from(document.images);
          const lines = Array.from(document.querySelectorAll("svg polyline"));
          const result = document.createElement("pre");
          result.id = "render-check";
          result.textContent = JSON.stringify({
            images: images.length,
            loaded: images.filter(image => image.complete && image.naturalWidth > 0).length,
            widths: images.map(image => image.naturalWidth),
            polylines: lines.length,
            drawn: lines.filter(line => line.getBBox().width > 0 || line.getBBox().height > 0).length,
          });
          document.body.appendChild(result);
        });
        </script>
        """

    func testThePageRendersWithItsImagesAndCurves() throws {
        guard let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("Chromium is not installed (scripts/setup-browser, or apt-get install -y chromium)")
        }
        let shards = folder.appendingPathComponent("shards"), run = folder.appendingPathComponent("run")
        try SyntheticShards.write(to: shards, count: 6)
        var options = tinyOptions(shards: shards, run: "run", maxSteps: 4)
        options.sampleCount = 2
        options.validationEvery = 2
        _ = try Trainer(options: options, resume: false).run()

        let page = try String(contentsOf: run.appendingPathComponent("index.html"), encoding: .utf8)
        let check = run.appendingPathComponent("check.html")
        try page.replacingOccurrences(of: "</body>", with: Self.probe + "</body>")
            .write(to: check, atomically: true, encoding: .utf8)
        let dom = try dumpDOM(browser: browser, page: check)
        guard let start = dom.range(of: "<pre id=\"render-check\">"),
              let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex) else {
            return XCTFail("the probe did not run; the browser printed:\n\(dom.prefix(2000))")
        }
        let json = String(dom[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        let images = try XCTUnwrap(result["images"] as? Int)
        XCTAssertGreaterThan(images, 2 * 3, "label, generated and photo of two samples, and their resamples")
        XCTAssertEqual(result["loaded"] as? Int, images, "every image decoded: \(json)")
        XCTAssertEqual(Set(result["widths"] as? [Int] ?? []), [64], json)
        let polylines = try XCTUnwrap(result["polylines"] as? Int)
        XCTAssertGreaterThanOrEqual(polylines, 8, "loss, learning-rate, speed and validation curves")
        XCTAssertEqual(result["drawn"] as? Int, polylines, "every curve has an extent: \(json)")
    }

    /// The page's DOM after it loaded (and after a virtual time budget for its load handlers).
    private func dumpDOM(browser: String, page: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--virtual-time-budget=5000",
            "--dump-dom", page.absoluteString,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
