import Foundation
import ImageIO
import XCTest
import _TestSupport

@testable import Statistics

/// Opens the HTML report in a real headless browser (Debian's `chromium`), takes a screenshot,
/// and checks the charts' colours are on it, against a control page with the charts removed.
/// Skips when Chromium is not installed (`apt-get install chromium`, opt-in: it is large).
final class BrowserRenderingTests: XCTestCase {
    /// Four 8×8 maps holding background and hat; two also hold hair.
    static func statistics() -> (DatasetStatistics, LabelSet) {
        var accumulator = StatisticsAccumulator(
            labelSet: LabelSet(source: "", classes: [0: "background", 1: "hat", 2: "hair"]))
        for index in 0..<4 {
            var values = [UInt8](repeating: 0, count: 64)
            for i in 0..<(10 + 4 * index) { values[i] = 1 }
            if index % 2 == 0 { for i in 40..<48 { values[i] = 2 } }
            accumulator.add(label: LabelMap(width: 8, height: 8, values: values), photo: nil, partition: "all")
        }
        return (accumulator.finish(), accumulator.labelSet)
    }

    static let hat = RGB(red: 128, green: 0, blue: 0)
    static let hair = RGB(red: 0, green: 128, blue: 0)
    /// A heat-map cell of classes found together in every image.
    static let fullCell = RGB(red: 30, green: 70, blue: 180)
    static let sizeBar = RGB(red: 90, green: 140, blue: 200)

    func testChartsAreDrawnInHeadlessChromium() throws {
        let browser = try installedBrowser()
        let folder = try temporaryFolder("stats-browser")
        let (stats, table) = Self.statistics()
        let written = try StatisticsReport.write(stats, labelSet: table, samples: [], to: folder.path)
        XCTAssertEqual(written, [folder.appendingPathComponent("index.html").path])

        let page = try String(contentsOfFile: written[0], encoding: .utf8)
        var control = page
        for svg in svgElements(in: page) { control = control.replacingOccurrences(of: svg, with: "") }
        let controlPath = folder.appendingPathComponent("control.html").path
        try control.write(toFile: controlPath, atomically: true, encoding: .utf8)

        let shot = try screenshot(browser: browser, page: written[0], folder: folder, name: "report")
        let controlShot = try screenshot(browser: browser, page: controlPath, folder: folder, name: "control")
        let counts = shot.count(of: [Self.hat, Self.hair, Self.fullCell, Self.sizeBar])
        let controlCounts = controlShot.count(of: [Self.hat, Self.hair, Self.fullCell, Self.sizeBar])
        // Hat: two bars and two histograms; hair likewise; four full heat-map cells of 34×34.
        XCTAssertGreaterThan(counts[0], 2_000, "hat bars")
        XCTAssertGreaterThan(counts[1], 1_000, "hair bars")
        XCTAssertGreaterThan(counts[2], 3_000, "co-occurrence cells")
        XCTAssertGreaterThan(counts[3], 3_000, "size bar")
        XCTAssertEqual(controlCounts, [0, 0, 0, 0], "the control page has no charts")
    }

    func testContactSheetImagesAreShown() throws {
        let browser = try installedBrowser()
        let folder = try temporaryFolder("stats-sheet")
        // A 64×64 sample: a 32×32 hat on background; the photo is a pure blue no chart uses.
        var values = [UInt8](repeating: 0, count: 64 * 64)
        for y in 16..<48 { for x in 16..<48 { values[y * 64 + x] = 1 } }
        let blue = RGB(red: 0, green: 0, blue: 255)
        let photo = Image(width: 64, height: 64, pixels: Array([UInt8]([0, 0, 255]).repeated(64 * 64)))
        let (stats, table) = Self.statistics()
        let sample = ContactSheetSample(
            key: "sample", label: LabelMap(width: 64, height: 64, values: values), photo: photo)
        do {
            _ = try StatisticsReport.write(stats, labelSet: table, samples: [sample], to: folder.path)
        } catch let error as ImageIOError {
            guard case .unsupported = error.reason else { throw error }
            throw XCTSkip("ImageIO's PNG encoder is not built")
        }
        let withSheet = try screenshot(
            browser: browser, page: folder.appendingPathComponent("index.html").path, folder: folder, name: "sheet")
        let without = folder.appendingPathComponent("without")
        _ = try StatisticsReport.write(stats, labelSet: table, samples: [], to: without.path)
        let withoutSheet = try screenshot(
            browser: browser, page: without.appendingPathComponent("index.html").path, folder: folder, name: "nosheet")
        let counts = withSheet.count(of: [Self.hat, blue])
        let baseline = withoutSheet.count(of: [Self.hat, blue])
        // The label thumbnail adds 32×32 hat pixels; the photo 64×64 blue and the hat split 32×32 more.
        XCTAssertGreaterThanOrEqual(counts[0] - baseline[0], 1_000, "colourised label map")
        XCTAssertGreaterThanOrEqual(counts[1] - baseline[1], 4_096 + 1_000, "photo and split")
    }

    /// The headless browser to render with; skips the test when none is installed.
    private func installedBrowser() throws -> String {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let browser = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("Chromium is not installed (apt-get install -y chromium)")
        }
        return browser
    }

    /// Renders `page` to PNG with the browser and returns its pixels.
    private func screenshot(browser: String, page: String, folder: URL, name: String) throws -> RGBPixels {
        let png = folder.appendingPathComponent("\(name).png").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--user-data-dir=\(folder.appendingPathComponent("profile-\(name)").path)",
            "--screenshot=\(png)", "--window-size=1200,2600", URL(fileURLWithPath: page).absoluteString,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            process.terminate()
            XCTFail("Chromium did not finish within 120 s")
        }
        process.waitUntilExit()
        guard FileManager.default.fileExists(atPath: png) else {
            throw XCTSkip("Chromium ran but wrote no screenshot (status \(process.terminationStatus))")
        }
        return try RGBPixels(png: png, scratch: folder.appendingPathComponent("\(name).rgb").path)
    }
}

extension Array {
    /// This array's elements repeated `count` times.
    func repeated(_ count: Int) -> [Element] { (0..<count).flatMap { _ in self } }
}

/// A decoded screenshot: with ImageIO's decoder when it is built, else through Python's PIL.
struct RGBPixels {
    var width: Int
    var height: Int
    var bytes: [UInt8]

    init(png: String, scratch: String) throws {
        do {
            let image = try Image(contentsOfFile: png)
            (width, height, bytes) = (image.width, image.height, image.pixels)
            return
        } catch let error as ImageIOError {
            guard case .unsupported = error.reason else { throw error }
        }
        let script = """
            import sys
            from PIL import Image
            im = Image.open(sys.argv[1]).convert("RGB")
            with open(sys.argv[2], "wb") as out:
                out.write(b"%d %d\\n" % im.size + im.tobytes())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, png, scratch]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: scratch),
            let newline = data.firstIndex(of: 10)
        else { throw XCTSkip("no PNG decoder: ImageIO codecs are not built and Python's PIL is missing") }
        let header = String(decoding: data[..<newline], as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        (width, height, bytes) = (header[0], header[1], Array(data[(newline + 1)...]))
    }

    /// Pixels within ±3 per channel of each colour.
    func count(of colours: [RGB]) -> [Int] {
        var counts = [Int](repeating: 0, count: colours.count)
        for offset in stride(from: 0, to: bytes.count, by: 3) {
            for (index, colour) in colours.enumerated()
            where abs(Int(bytes[offset]) - Int(colour.red)) <= 3 && abs(Int(bytes[offset + 1]) - Int(colour.green)) <= 3
                && abs(Int(bytes[offset + 2]) - Int(colour.blue)) <= 3 {
                counts[index] += 1
            }
        }
        return counts
    }
}
