import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport
@testable import Pipeline

/// `smisprep cityscapes` and `smisprep ade20k` on the committed fixtures (Fixtures/README.md),
/// through the built tool as a user runs them, then the shards they pack.
final class SceneFixtureTests: XCTestCase {
    private func fixture(_ name: String) -> String { TestPaths.fixtures.appendingPathComponent(name).path }

    private func prepare(_ command: String, _ extra: [String] = []) throws -> (folder: String, output: String) {
        let folder = try temporaryFolder("scene-fixtures-\(command)").path
        let result = try BuiltTool.run(
            "smisprep",
            [command, "--root", fixture(command), "--out", folder + "/prepared", "--shards", folder + "/shards"]
                + extra)
        XCTAssertEqual(result.status, 0, result.errors)
        return (folder, result.output)
    }

    func testCityscapesKeepsTheOfficialSplitAndSixteenBitInstanceMaps() throws {
        let (folder, output) = try prepare("cityscapes")
        XCTAssertTrue(output.contains("kept 5 (train 4, validation 1), dropped 0"), output)
        // The _gtFine_color.png files are neither labels nor photos; test/ is not read at all.
        XCTAssertTrue(output.contains("ignored 5 other files"), output)
        let prepared = folder + "/prepared"
        let manager = FileManager.default
        let train = try manager.contentsOfDirectory(atPath: prepared + "/train").sorted()
        XCTAssertEqual(train.count, 4)
        XCTAssertEqual(
            try manager.contentsOfDirectory(atPath: prepared + "/test"), ["frankfurt-frankfurt_000003_000019.jpg"])
        for name in train {
            let stem = (name as NSString).deletingPathExtension
            let label = try LabelMap(contentsOfFile: "\(prepared)/cihp_train_mask/\(stem).png")
            let instances = try InstanceMap(contentsOfFile: "\(prepared)/train_instance/\(stem).png")
            XCTAssertEqual([label.width, label.height, instances.width, instances.height], [512, 256, 512, 256])
            XCTAssertTrue(label.values.allSatisfy { $0 < 34 }, "labelIds 0...33 are kept as they are")
            XCTAssertTrue(instances.values.contains { $0 >= 1000 }, "\(stem): instance ids above 8 bits survive")
            // Stuff keeps its class id as instance id, as in Cityscapes' files.
            for (id, label) in zip(instances.values, label.values) where id < 1000 { XCTAssertEqual(id, UInt16(label)) }
        }
        let set = try ShardSet(directory: URL(fileURLWithPath: folder + "/shards"), split: "train")
        XCTAssertEqual(set.manifest.classes.count, 35)
        let view = try set.segmentationRecord(at: 0)
        XCTAssertTrue(view.hasInstances)
        let stored = try view.decodedInstances()
        let key = view.key
        XCTAssertEqual(stored, try InstanceMap(contentsOfFile: "\(prepared)/train_instance/\(key).png"))
    }

    /// Two worker slices gathered and merged give the whole run's files, instance maps too.
    func testCityscapesWorkerSlicesMergeToTheWholeRun() throws {
        let folder = try temporaryFolder("scene-workers").path
        func run(_ arguments: [String]) throws {
            let result = try BuiltTool.run("smisprep", arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.errors)")
        }
        let root = fixture("cityscapes")
        try run(["cityscapes", "--root", root, "--out", folder + "/whole", "--size", "128x64", "--quiet"])
        for index in 0..<2 {
            try run([
                "cityscapes", "--root", root, "--out", folder + "/worker-\(index)", "--size", "128x64", "--quiet",
                "--worker", "\(index)/2",
            ])
        }
        try run(["merge", folder + "/merged", "--from", folder + "/worker-0", folder + "/worker-1"])
        let manager = FileManager.default
        for data in ["train", "cihp_train_mask", "train_instance", "test", "cihp_test_mask", "test_instance"] {
            let names = try manager.contentsOfDirectory(atPath: "\(folder)/whole/\(data)").sorted()
            XCTAssertFalse(names.isEmpty, data)
            XCTAssertEqual(try manager.contentsOfDirectory(atPath: "\(folder)/merged/\(data)").sorted(), names, data)
            for name in names {
                XCTAssertTrue(
                    manager.contentsEqual(
                        atPath: "\(folder)/whole/\(data)/\(name)", andPath: "\(folder)/merged/\(data)/\(name)"),
                    "\(data)/\(name)")
            }
        }
    }

    func testADE20KShiftsIdsAndStoresTrainingAtTheLoadSize() throws {
        let (folder, output) = try prepare("ade20k")
        XCTAssertTrue(output.contains("kept 6 (train 4, validation 2), dropped 0"), output)
        let prepared = folder + "/prepared"
        let raw = try LabelMap(contentsOfFile: fixture("ade20k") + "/annotations/training/ADE_train_00000001.png")
        let label = try LabelMap(contentsOfFile: prepared + "/cihp_train_mask/ADE_train_00000001.png")
        XCTAssertEqual([label.width, label.height], [286, 286])
        // The reference's `label - 1`, with 0 ("other") becoming 150: same pixels, nearest.
        let expected = raw.resized(width: 286, height: 286).values.map { $0 == 0 ? 150 : $0 - 1 }
        XCTAssertEqual(label.values, expected)
        let validation = try LabelMap(contentsOfFile: prepared + "/cihp_test_mask/ADE_val_00000001.png")
        XCTAssertEqual([validation.width, validation.height], [256, 256])
        XCTAssertFalse(FileManager.default.fileExists(atPath: prepared + "/train_instance"))
        let set = try ShardSet(directory: URL(fileURLWithPath: folder + "/shards"), split: "train")
        XCTAssertEqual(set.manifest.classes.count, 151)
        XCTAssertEqual(set.manifest.classes.last, "other")
        XCTAssertFalse(try set.segmentationRecord(at: 0).hasInstances)

        // 151 classes: the table lists the 16 present, names the absent in one line, and pairs
        // replace the 151 × 151 grid (in the text and in the HTML report).
        let stats = try BuiltTool.run("smisprep", ["stats", folder + "/shards", "--report", folder + "/report"])
        XCTAssertEqual(stats.status, 0, stats.errors)
        XCTAssertTrue(
            stats.output.contains("135 of the 151 classes are absent from every sample: 1 building"), stats.output)
        XCTAssertTrue(stats.output.contains("Co-occurrence: the 20 pairs of classes most often in one sample"))
        XCTAssertTrue(stats.output.contains("150  other"), stats.output)
        XCTAssertFalse(stats.output.contains("  2  sky"), "absent classes are left out of the table")
        let html = try String(contentsOfFile: folder + "/report/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<table id=\"frequent-pairs\">"))
        XCTAssertTrue(html.contains("the 16 classes in the most images"), "the grid keeps the present classes only")
    }

    /// The scene generators are deterministic: the committed fixtures are what the command in
    /// Fixtures/README.md draws.
    func testSyntheticScenesAreTheCommittedFixtures() throws {
        let folder = try temporaryFolder("scene-synth").path
        for (layout, extra) in [("cityscapes", [String]()), ("ade20k", ["--quality", "80"])] {
            let result = try BuiltTool.run(
                "smisprep", ["synth", "--layout", layout, "--count", "6", "--seed", "7", "--out", folder + "/" + layout]
                    + extra)
            XCTAssertEqual(result.status, 0, result.errors)
            let committed = fixture(layout)
            let files = try FileManager.default.subpathsOfDirectory(atPath: committed)
                .filter { $0.contains(".") }.sorted()
            XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: folder + "/" + layout)
                .filter { $0.contains(".") }.sorted(), files)
            for file in files {
                XCTAssertEqual(
                    FileManager.default.contents(atPath: committed + "/" + file),
                    FileManager.default.contents(atPath: folder + "/" + layout + "/" + file), "\(layout)/\(file)")
            }
        }
    }
}
