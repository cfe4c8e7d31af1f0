import Foundation
import ImageIO
import Records
import Statistics
import XCTest
import _TestSupport
@testable import Pipeline

/// The whole pipeline, real codecs, on the committed fixtures (made by
/// `smisprep synth --count 12 --seed 6 --quality 60 --out Fixtures/deepfashion --defects Fixtures/deepfashion-bad`).
final class FixtureRunTests: XCTestCase {
    private var good: String { TestPaths.fixtures.appendingPathComponent("deepfashion").path }
    private var bad: String { TestPaths.fixtures.appendingPathComponent("deepfashion-bad").path }

    private func run(
        images: String, labels: String, jobs: Int = 2, _ edit: (inout PipelineOverrides) -> Void = { _ in }
    ) throws -> (RunReport, String) {
        try PipelineFixtures.requireCodecs()
        let output = try temporaryFolder("pipeline-tests").path + "/prepared"
        let configuration = try PipelineFixtures.configuration {
            $0.images = images
            $0.labels = labels
            $0.output = output
            edit(&$0)
        }
        let runner = PipelineRunner(configuration: configuration, options: RunOptions(jobs: jobs, durable: false))
        return (try runner.run(), output)
    }

    func testFixturesWithTheirPartitionList() throws {
        let (report, output) = try run(images: good + "/img", labels: good + "/labels") {
            $0.partitionList = good + "/list_eval_partition.txt"
        }
        XCTAssertEqual(report.pairs, 12)
        XCTAssertEqual(report.kept, 9)
        XCTAssertEqual(report.train, 6)
        XCTAssertEqual(report.validation, 3)
        XCTAssertEqual(report.droppedByReason, ["filtered": 3])
        XCTAssertEqual(report.filteredByClass, ["glove": 3])
        XCTAssertEqual(
            Set(report.droppedSamples.map(\.stem)),
            Set(["01_1_front", "02_3_back", "03_5_additional"].map { "MEN/Tees_Tanks/id_00000002/\($0)" }))

        let manager = FileManager.default
        let train = try manager.contentsOfDirectory(atPath: output + "/train").sorted()
        let test = try manager.contentsOfDirectory(atPath: output + "/test").sorted()
        XCTAssertEqual(test, [
            "WOMEN-Blouses_Shirts-id_00000004-01_1_front.jpg", "WOMEN-Blouses_Shirts-id_00000004-02_2_side.jpg",
            "WOMEN-Blouses_Shirts-id_00000004-03_4_full.jpg",
        ])
        XCTAssertEqual(train.count, 6)
        XCTAssertEqual(try manager.contentsOfDirectory(atPath: output + "/cihp_train_mask").sorted(),
                       train.map { ($0 as NSString).deletingPathExtension + ".png" })
        for name in train {
            let stem = (name as NSString).deletingPathExtension
            let photo = try Image(contentsOfFile: "\(output)/train/\(name)")
            let label = try LabelMap(contentsOfFile: "\(output)/cihp_train_mask/\(stem).png")
            XCTAssertEqual([photo.width, photo.height, label.width, label.height], [256, 256, 256, 256])
            XCTAssertTrue(label.values.allSatisfy { $0 < 8 }, "\(stem) holds ids 0–7 only")
            let present = Set(label.values)
            XCTAssertTrue(
                present.isSuperset(of: [0, 2, 3, 4, 6, 7]),
                "\(stem): hair, skin, top, bottom, shoes and background drawn: \(present.sorted())")
        }
        let effective = try String(contentsOfFile: output + "/pipeline.yaml", encoding: .utf8)
        XCTAssertTrue(effective.contains("list: \"\(good)/list_eval_partition.txt\""), effective)
        XCTAssertTrue(effective.contains("source: \"\(PipelineFixtures.pipelines)/sources/lip.yaml\""), effective)
    }

    func testFixturesWithHashedPartitionAndNoFilter() throws {
        let (report, _) = try run(images: good + "/img", labels: good + "/labels") { $0.filterClasses = [] }
        XCTAssertEqual(report.kept, 12)
        XCTAssertEqual(report.dropped, 0)
        let validationItems = (1...4).map { String(format: "id_%08d", $0) }
            .filter { Partitioner.hashedSplit(itemID: $0, validationFraction: 0.08) == .validation }
        XCTAssertEqual(report.validation, 3 * validationItems.count)
    }

    func testBadInputsOfEveryKindEndInTheReport() throws {
        let (report, output) = try run(images: bad + "/img", labels: bad + "/labels")
        XCTAssertEqual(report.photosFound, 6)
        XCTAssertEqual(report.labelsFound, 6)
        XCTAssertEqual(report.pairs, 5)
        XCTAssertEqual(report.kept, 1, "the label with a 255 border is kept: 255 becomes background")
        XCTAssertEqual(report.droppedByReason, [
            "photo-without-label": 1, "label-without-photo": 1, "undecodable": 2, "size-mismatch": 1,
            "unknown-label-value": 1,
        ])
        let reasons = Dictionary(
            uniqueKeysWithValues: report.droppedSamples.map { (String($0.stem.split(separator: "/")[2]), $0) })
        XCTAssertEqual(reasons["id_09000003"]?.reason, "undecodable")
        XCTAssertEqual(reasons["id_09000003"]?.photo, "MEN/Denim/id_09000003/01_1_front.jpg")
        if case .undecodable(let file, _)? = reasons["id_09000003"]?.detail {
            XCTAssertEqual(file, "MEN/Denim/id_09000003/01_1_front.png")
        } else { XCTFail("truncated label not reported as undecodable") }
        if case .undecodable(let file, let message)? = reasons["id_09000004"]?.detail {
            XCTAssertEqual(file, "MEN/Denim/id_09000004/01_1_front.jpg")
            XCTAssertEqual(message, "not a PNG, JPEG or TIFF file")
        } else { XCTFail("text photo not reported as undecodable") }
        XCTAssertEqual(
            reasons["id_09000005"]?.detail,
            .sizeMismatch(photoWidth: 150, photoHeight: 220, labelWidth: 100, labelHeight: 100))
        XCTAssertEqual(reasons["id_09000006"]?.detail, .unknownLabelValue(value: 42, pixels: 200))
        let summary = try String(contentsOfFile: output + "/summary.txt", encoding: .utf8)
        XCTAssertTrue(summary.contains("kept 1 (train"), summary)
        XCTAssertTrue(summary.contains("id_09000005/01_1_front: photo is 150×220 but label map is 100×100"), summary)
    }

    func testIgnoreValueRejectedWhenConfigured() throws {
        try PipelineFixtures.requireCodecs()
        let text = try String(contentsOfFile: PipelineFixtures.deepfashionFile, encoding: .utf8)
            .replacingOccurrences(of: "becomes: background", with: "becomes: reject")
        let folder = try temporaryFolder("pipeline-tests").path
        let configuration = try PipelineConfiguration(yaml: text, file: "edited.yaml", overrides: {
            var overrides = PipelineOverrides()
            overrides.images = bad + "/img"
            overrides.labels = bad + "/labels"
            overrides.output = folder + "/out"
            return overrides
        }()) { try LabelSet(contentsOfFile: PipelineFixtures.pipelines + "/sources/\($0).yaml") }
        let report = try PipelineRunner(
            configuration: configuration, options: RunOptions(jobs: 1, durable: false)).run()
        XCTAssertEqual(report.kept, 0)
        XCTAssertEqual(report.droppedByReason["unknown-label-value"], 2)
        XCTAssertTrue(report.droppedSamples.contains { $0.detail == .unknownLabelValue(value: 255, pixels: 150) })
    }

    func testWriteSplitWritesMaskedCropsPerClass() throws {
        let (report, output) = try run(images: good + "/img", labels: good + "/labels", jobs: 1) {
            $0.writeSplit = true
            $0.filterClasses = []
        }
        XCTAssertEqual(report.kept, 12)
        let folder = output + "/split/WOMEN-Pants-id_00000001-01_1_front"
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        XCTAssertTrue(parts.contains("0-hair.png") && parts.contains("7-background.png"), "\(parts)")
        let hair = try Image(contentsOfFile: folder + "/0-hair.png")
        XCTAssertLessThan(hair.width, 256)
        XCTAssertLessThan(hair.height, 256)
    }

    /// The shard stage packs what the run prepared, stores the caller's statistics unchanged,
    /// and names every sample it cannot pack while writing the others.
    func testShardStagePacksThePreparedFolderAndNamesSkippedSamples() throws {
        let (report, output) = try run(images: good + "/img", labels: good + "/labels") {
            $0.partitionList = good + "/list_eval_partition.txt"
        }
        let statistics = JSONValue.object(
            ["sampleCount": .number(Double(report.kept)), "marker": .string("from the run")])
        let settings = ShardSettings(
            directory: (output as NSString).deletingLastPathComponent + "/shards", sizing: .records(4))
        let stage = ShardStage(settings: settings, jobs: 2, toolVersion: "test")
        let clean = try stage.run(preparedFolder: output, statistics: statistics)
        XCTAssertEqual(clean.skipped, [])
        XCTAssertEqual(clean.writer.manifest.recordCount(split: "train"), report.train)
        XCTAssertEqual(clean.writer.manifest.recordCount(split: "validation"), report.validation)
        XCTAssertEqual(
            clean.writer.manifest.shards.map(\.name),
            ["train-00000.tfrecord", "train-00001.tfrecord", "validation-00000.tfrecord"])
        let manifest = try Manifest(directory: URL(fileURLWithPath: settings.directory))
        XCTAssertEqual(manifest.statistics, statistics)
        XCTAssertEqual(manifest.pipeline, try String(contentsOfFile: output + "/pipeline.yaml", encoding: .utf8))
        XCTAssertEqual(manifest.settings, ["image": "jpeg", "label": "png", "sizing": "4 records"])

        // A label map gone and a truncated photo: both named, the other seven still packed.
        let train = try FileManager.default.contentsOfDirectory(atPath: output + "/train").sorted()
        let lost = (train[0] as NSString).deletingPathExtension
        let broken = (train[1] as NSString).deletingPathExtension
        try FileManager.default.removeItem(atPath: "\(output)/cihp_train_mask/\(lost).png")
        let photo = try Data(contentsOf: URL(fileURLWithPath: "\(output)/train/\(broken).jpg"))
        try photo.prefix(10).write(to: URL(fileURLWithPath: "\(output)/train/\(broken).jpg"))
        let damaged = try stage.run(preparedFolder: output, statistics: statistics)
        XCTAssertEqual(damaged.skipped.map(\.stem), [lost, broken])
        XCTAssertEqual(damaged.skipped.map(\.split), ["train", "train"])
        XCTAssertEqual(damaged.skipped[0].reason, "photo or label missing")
        XCTAssertTrue(damaged.skipped[1].reason.contains("\(broken).jpg"), damaged.skipped[1].reason)
        XCTAssertEqual(damaged.writer.manifest.recordCount(), report.kept - 2)
        XCTAssertEqual(damaged.writer.shardsReused, 1, "the validation shard is unchanged")
    }

    func testShardStageNeedsAPreparedFolder() throws {
        let folder = try temporaryFolder("pipeline-tests").path
        let stage = ShardStage(settings: ShardSettings(directory: folder + "/shards"), jobs: 1, toolVersion: "test")
        XCTAssertThrowsError(try stage.run(preparedFolder: folder, statistics: .null)) { error in
            guard case ShardStageError.classList(let file, _)? = error as? ShardStageError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, folder + "/classes.json")
        }
        try Data(#"{"classes": ["a", "b"]}"#.utf8).write(to: URL(fileURLWithPath: folder + "/classes.json"))
        XCTAssertThrowsError(try stage.run(preparedFolder: folder, statistics: .null)) { error in
            XCTAssertEqual(error as? ShardStageError, .nothingPrepared(folder: folder))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/shards/manifest.json"))
    }

    func testSyntheticSetIsDeterministic() throws {
        try PipelineFixtures.requireCodecs()
        let first = SyntheticPerson(seed: 6, index: 4, width: 75, height: 110)
        let again = SyntheticPerson(seed: 6, index: 4, width: 75, height: 110)
        XCTAssertEqual(first.label, again.label)
        XCTAssertEqual(first.photo, again.photo)
        XCTAssertEqual(first.relativeStem, "MEN/Tees_Tanks/id_00000002/02_3_back")
        XCTAssertNotEqual(SyntheticPerson(seed: 7, index: 4, width: 75, height: 110).label, first.label)
        // The committed fixture is what the generator draws today.
        let committed = try LabelMap(contentsOfFile: good + "/labels/MEN/Tees_Tanks/id_00000002/02_3_back.png")
        XCTAssertEqual(committed, SyntheticPerson(seed: 6, index: 4).label)
    }
}

/// Real parser output (../shared/data/real-parsing, never committed) through the right source
/// set: the class histograms at full size are what the table implies, counted independently.
final class RealParsingTests: XCTestCase {
    private var root: String { TestPaths.shared.appendingPathComponent("data/real-parsing").path }

    /// Expected eight-class histograms (hair, face, skin, top, bottom, socks, shoes, background),
    /// from each PNG's value counts mapped through data.md's table.
    private let expected: [(file: String, source: String, width: Int, height: Int, histogram: [Int])] = [
        ("schp-lip/demo", "lip", 2000, 1333, [56008, 76115, 92531, 672798, 0, 0, 0, 1768548]),
        ("schp-multi/demo", "lip", 1200, 900, [19365, 34676, 18367, 339094, 157668, 0, 0, 510830]),
        ("cihp-gt/0002190", "cihp", 300, 200, [9045, 1987, 2873, 20228, 0, 0, 0, 25867]),
        ("cihp-gt/0005008", "cihp", 576, 313, [2695, 5530, 3523, 59329, 36851, 0, 231, 72129]),
        ("cihp-gt/0012008", "cihp", 500, 458, [3507, 3577, 5367, 41875, 21147, 6903, 1895, 144729]),
        ("cihp-gt/0026375", "cihp", 500, 498, [12834, 18975, 7767, 22747, 0, 0, 0, 186677]),
        ("cihp-gt/0032190", "cihp", 500, 752, [16197, 7991, 8324, 84947, 31124, 0, 0, 227417]),
    ]

    func testClassHistogramsOfRealParserOutput() throws {
        try PipelineFixtures.requireCodecs()
        guard FileManager.default.fileExists(atPath: root) else { throw XCTSkip("no ../shared/data/real-parsing") }
        for sample in expected {
            let configuration = try PipelineFixtures.configuration(source: sample.source) {
                $0.size = Size(width: sample.width, height: sample.height)
            }
            let preparation = SamplePreparation(configuration: configuration, partitionList: nil)
            let photo = try Image(contentsOfFile: "\(root)/\(sample.file).jpg")
            let label = try LabelMap(contentsOfFile: "\(root)/\(sample.file).png")
            guard case .kept(let prepared) = preparation.prepare(stem: sample.file, photo: photo, label: label) else {
                XCTFail("\(sample.file) dropped")
                continue
            }
            XCTAssertEqual(prepared.parts.map(\.pixelCount), sample.histogram, sample.file)
        }
    }

    func testCIHPFolderRunsThroughTheCIHPSourceSetAt256() throws {
        try PipelineFixtures.requireCodecs()
        guard FileManager.default.fileExists(atPath: root) else { throw XCTSkip("no ../shared/data/real-parsing") }
        let output = try temporaryFolder("pipeline-tests").path + "/out"
        let configuration = try PipelineFixtures.configuration(source: "cihp") {
            $0.images = root + "/cihp-gt"
            $0.labels = root + "/cihp-gt"
            $0.output = output
        }
        let runner = PipelineRunner(configuration: configuration, options: RunOptions(jobs: 2, durable: false))
        let totals = ObservedStems()
        runner.observer = { sample, _ in totals.add(sample.flatStem, sample.label) }
        let report = try runner.run()
        // Photos and labels share one folder: a .png there is a label map, never a photo,
        // so each pair is found once and nothing is reported as dropped or ignored.
        XCTAssertEqual(report.pairs, 5)
        XCTAssertEqual(report.kept, 5)
        XCTAssertEqual(report.droppedByReason, [:])
        XCTAssertEqual(report.ignoredFiles, 0)
        var histogram = [Int](repeating: 0, count: 8)
        for label in totals.labels { for value in label.values { histogram[Int(value)] += 1 } }
        XCTAssertEqual(histogram.reduce(0, +), 5 * 256 * 256)
        // Nearest-neighbour resizing keeps each class's share to within a few percent.
        // Every image becomes 256×256, so the expected share is the mean of per-image shares.
        let perImage = expected.filter { $0.source == "cihp" }.map { sample in
            sample.histogram.map { Double($0) / Double(sample.width * sample.height) }
        }
        let fullShares = (0..<8).map { id in perImage.map { $0[id] }.reduce(0, +) / Double(perImage.count) }
        for id in 0..<8 {
            XCTAssertEqual(Double(histogram[id]) / Double(5 * 65536), fullShares[id], accuracy: 0.01, "class \(id)")
        }
    }
}
