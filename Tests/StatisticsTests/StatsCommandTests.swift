import Foundation
import ImageIO
import XCTest
import _TestSupport

@testable import Statistics

/// Runs the built `smisprep stats` on small folders: the three layouts, the error for each
/// misuse, and the report's files.
final class StatsCommandTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws { root = try temporaryFolder("stats-command") }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try BuiltTool.run("smisprep", arguments)
    }

    /// Three train samples and one val sample of 16×12, ids 0…2; one corrupt label map.
    func makePreparedFolder() throws {
        for folder in ["train", "cihp_train_mask", "test", "cihp_test_mask"] {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for index in 0..<4 {
            let (photos, labels) = index < 3 ? ("train", "cihp_train_mask") : ("test", "cihp_test_mask")
            var values = [UInt8](repeating: 2, count: 16 * 12)
            for i in 0..<(20 * (index + 1)) { values[i] = 0 }
            if index % 2 == 0 { for i in 100..<130 { values[i] = 1 } }
            let label = LabelMap(width: 16, height: 12, values: values)
            let photo = Image(
                width: 16, height: 12, pixels: (0..<(16 * 12 * 3)).map { UInt8(($0 * 7 + index * 31) % 256) })
            try Data(try label.encodedPNG()).write(to: root.appendingPathComponent("\(labels)/s\(index).png"))
            let file = root.appendingPathComponent("\(photos)/s\(index).jpg")
            try Data(try photo.encodedJPEG(quality: 95)).write(to: file)
        }
        try Data("not a png".utf8).write(to: root.appendingPathComponent("cihp_train_mask/broken.png"))
        try #"{"classes": ["zero", "one", "two"]}"#.write(
            to: root.appendingPathComponent("classes.json"), atomically: true, encoding: .utf8)
    }

    func testPreparedFolderJSONEqualsAnInProcessScanAndNamesTheBadFile() throws {
        try makePreparedFolder()
        let (status, output, errors) = try run(["stats", root.path, "--json"])
        XCTAssertEqual(status, 0, errors)
        let stats = try DatasetStatistics.decode(fromJSON: Data(output.utf8))
        XCTAssertEqual(stats.partitions, ["train": 3, "val": 1])
        XCTAssertEqual(stats.classes.map(\.name), ["zero", "one", "two"])
        XCTAssertEqual(stats.classes.map(\.images), [4, 2, 4])
        // Label maps are lossless: 20 + 40 + 60 + 80 pixels of class 0.
        XCTAssertEqual(stats.classes[0].pixels, 200)
        let listing = try DatasetListing.prepared(at: root.path)
        let reported = ReportedCounts()
        let expected = StatisticsScan.run(
            listing.samples, into: StatisticsAccumulator(classNames: ["zero", "one", "two"]), progressInterval: 1
        ) { reported.append($0) }
        XCTAssertEqual(reported.values, [1, 2, 3, 4, 5], "every listed sample, the broken one too, in order")
        XCTAssertEqual(stats, expected.accumulator.finish())
        XCTAssertTrue(errors.contains("\(root.path)/cihp_train_mask/broken.png"), errors)
        XCTAssertTrue(errors.contains("1 files skipped"), errors)
    }

    func testReportWritesThePageAndDecodableThumbnails() throws {
        try makePreparedFolder()
        let report = root.appendingPathComponent("report").path
        let (status, output, errors) = try run(["stats", root.path, "--report", report, "--contact-sheet-samples", "2"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(output.hasPrefix("Samples: 4   (train 3 · val 1)"), output)
        let page = try String(contentsOfFile: report + "/index.html", encoding: .utf8)
        XCTAssertEqual(svgElements(in: page).count, 3 + 2 * 3 + 1)
        // Two samples (the first and last of 5 listed files that decode): photo, labels and the
        // splits of classes zero and one (two is the background-sized class: still split).
        let thumbnails = try FileManager.default.contentsOfDirectory(atPath: report + "/thumbnails").sorted()
        XCTAssertTrue(thumbnails.contains("0-photo.png") && thumbnails.contains("0-label.png"), "\(thumbnails)")
        XCTAssertFalse(thumbnails.contains { $0.contains(".partial") })
        for file in thumbnails {
            let image = try Image(contentsOfFile: report + "/thumbnails/" + file)
            XCTAssertGreaterThan(image.pixelCount, 0)
            XCTAssertTrue(page.contains("thumbnails/\(file)"), "\(file) is not on the page")
        }
        let label = try Image(contentsOfFile: report + "/thumbnails/0-label.png")
        XCTAssertEqual([label.width, label.height], [16, 12])
    }

    /// A shard set's report has a contact sheet too, drawn from its records.
    func testShardSetReportHasAContactSheetFromItsRecords() throws {
        try makePreparedFolder()
        let shards = root.appendingPathComponent("shards").path
        let shard = try run(["shard", root.path, "--out", shards])
        XCTAssertEqual(shard.status, 3, shard.errors)  // the broken label map is left out
        let report = root.appendingPathComponent("shard-report").path
        let (status, _, errors) = try run(["stats", shards, "--report", report, "--contact-sheet-samples", "2"])
        XCTAssertEqual(status, 0, errors)
        let thumbnails = try FileManager.default.contentsOfDirectory(atPath: report + "/thumbnails")
        for name in ["0-photo.png", "0-label.png", "1-photo.png", "1-label.png"] {
            XCTAssertTrue(thumbnails.contains(name), "\(name) not in \(thumbnails.sorted())")
        }
    }

    func testShardManifestStatisticsArePrintedAsStored() throws {
        let (stored, _) = RenderingTests.crafted()
        let manifest: [String: Any] = [
            "formatVersion": 1, "statistics": try JSONSerialization.jsonObject(with: try stored.encodedJSON()),
        ]
        try JSONSerialization.data(withJSONObject: manifest).write(to: root.appendingPathComponent("manifest.json"))
        let (status, output, errors) = try run(["stats", root.path, "--json"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertEqual(try DatasetStatistics.decode(fromJSON: Data(output.utf8)), stored)

        // --recompute reads the shards, and this manifest lists none that exist.
        let recompute = try run(["stats", root.path, "--recompute"])
        XCTAssertNotEqual(recompute.status, 0)
        XCTAssertTrue(recompute.errors.contains("manifest.json"), recompute.errors)
    }

    func testRawOutputWithoutSourceIsAUsageError() throws {
        try Data().write(to: root.appendingPathComponent("a.png"))
        let (status, _, errors) = try run(["stats", root.path])
        XCTAssertEqual(status, 64)
        XCTAssertTrue(
            errors.contains(
                "Error: \(root.path) looks like raw parser output: name its label set with --source lip|cihp|atr."),
            errors)
    }

    func testSourceSetIsReadFromYAML() throws {
        let yaml = root.appendingPathComponent("tiny.yaml")
        try "name: tiny\nclasses:\n  0: background\n  3: glove\n".write(to: yaml, atomically: true, encoding: .utf8)
        let data = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var values = [UInt8](repeating: 0, count: 100)
        for i in 0..<30 { values[i] = 3 }
        values[99] = 255
        let png = try LabelMap(width: 10, height: 10, values: values).encodedPNG()
        try Data(png).write(to: data.appendingPathComponent("x.png"))
        let (status, output, errors) = try run(["stats", data.path, "--source", yaml.path, "--json"])
        XCTAssertEqual(status, 0, errors)
        let stats = try DatasetStatistics.decode(fromJSON: Data(output.utf8))
        XCTAssertEqual(stats.labelSet, .source)
        XCTAssertEqual(stats.classes.map(\.name), ["background", "glove"])
        XCTAssertEqual(stats.filterCandidates?.classes[1].dropsAbovePixels, [1, 0, 0, 0])
        XCTAssertEqual(stats.valuesOutsideTable, [OutsideValue(value: 255, images: 1, pixels: 1)])
        XCTAssertTrue(errors.contains("label map without a photo"), errors)

        let missing = try run(["stats", data.path, "--source", "nope", "--sources-dir", root.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("\(root.path)/nope.yaml: cannot read file"), missing.errors)
    }

    /// `--help` word for word; `RECORD_SNAPSHOTS=1` rewrites the snapshot after a deliberate change.
    func testHelpMatchesItsSnapshot() throws {
        let (status, output, _) = try run(["stats", "--help"])
        XCTAssertEqual(status, 0)
        let snapshot = TestPaths.repositoryRoot.appendingPathComponent("Tests/StatisticsTests/Snapshots/stats-help.txt")
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
            try FileManager.default.createDirectory(
                at: snapshot.deletingLastPathComponent(), withIntermediateDirectories: true)
            try output.write(to: snapshot, atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(output, try String(contentsOf: snapshot, encoding: .utf8))
    }

    func testBadThreadCountIsRejectedBeforeAnyWork() throws {
        let (status, _, errors) = try run(["stats", root.path, "--threads", "0"])
        XCTAssertEqual(status, 64)
        XCTAssertTrue(errors.contains("--threads must be between 1 and 1024, got 0."), errors)
    }
}

/// Progress values gathered from scanning threads.
final class ReportedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func append(_ value: Int) { lock.lock(); stored.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return stored }
}
