import Foundation
import ImageIO
import XCTest
import _TestSupport
@testable import Pipeline

/// The runner opens photos lazily (`PhotoInput`) and decodes a kept JPEG straight to the
/// training size. These tests pin down that this changes nothing a user sees: the same files,
/// byte for byte, as decoding every photo whole first; and broken photos reported as before,
/// first in the stages' order, whichever later stage would have dropped the sample.
final class OnePassDecodeTests: XCTestCase {
    private var good: String { TestPaths.fixtures.appendingPathComponent("deepfashion").path }

    private func run(
        images: String, labels: String, output: String, codecs: SampleCodecs = .imageIO
    ) throws -> RunReport {
        let configuration = try PipelineFixtures.configuration {
            $0.images = images
            $0.labels = labels
            $0.output = output
            $0.partitionList = self.good + "/list_eval_partition.txt"
        }
        let runner = PipelineRunner(configuration: configuration, options: RunOptions(jobs: 2, durable: false))
        runner.codecs = codecs
        return try runner.run()
    }

    /// ImageIO's codecs, but every photo decoded whole when opened: the pipeline as it was.
    private var wholePhotoCodecs: SampleCodecs {
        var codecs = SampleCodecs.imageIO
        codecs.openPhoto = { PhotoInput(try Image(contentsOfFile: $0)) }
        return codecs
    }

    func testOnePassWritesTheSameFilesAsDecodingWholePhotos() throws {
        try PipelineFixtures.requireCodecs()
        let folder = try temporaryFolder("pipeline-tests").path
        let onePass = try run(images: good + "/img", labels: good + "/labels", output: folder + "/one-pass")
        let whole = try run(
            images: good + "/img", labels: good + "/labels", output: folder + "/whole", codecs: wholePhotoCodecs)
        XCTAssertEqual(onePass.kept, 9)
        XCTAssertEqual(onePass.kept, whole.kept)
        XCTAssertEqual(onePass.droppedByReason, whole.droppedByReason)
        var compared = 0
        for subfolder in ["train", "test", "cihp_train_mask", "cihp_test_mask"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/whole/\(subfolder)").sorted()
            XCTAssertEqual(
                try FileManager.default.contentsOfDirectory(atPath: "\(folder)/one-pass/\(subfolder)").sorted(), names)
            for name in names {
                let expected = try ImageFile.read("\(folder)/whole/\(subfolder)/\(name)")
                XCTAssertEqual(
                    try ImageFile.read("\(folder)/one-pass/\(subfolder)/\(name)"), expected, "\(subfolder)/\(name)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 18)
    }

    /// Truncated photos (headers intact, so they open) in three places: a sample that would be
    /// kept (its photo fails inside the one-pass resize), one the glove filter would drop, and
    /// one whose label map is broken too. Each is reported as an undecodable photo.
    func testTruncatedPhotosAreReportedWhicheverStageWouldHaveDroppedTheSample() throws {
        try PipelineFixtures.requireCodecs()
        let folder = try temporaryFolder("pipeline-tests").path
        try FileManager.default.copyItem(atPath: good + "/img", toPath: folder + "/img")
        try FileManager.default.copyItem(atPath: good + "/labels", toPath: folder + "/labels")
        let kept = "WOMEN/Blouses_Shirts/id_00000004/01_1_front", filtered = "MEN/Tees_Tanks/id_00000002/02_3_back"
        let brokenLabel = "WOMEN/Blouses_Shirts/id_00000004/02_2_side"
        for stem in [kept, filtered, brokenLabel] {
            let path = "\(folder)/img/\(stem).jpg"
            let bytes = try ImageFile.read(path)
            try PipelineFixtures.write(Array(bytes.prefix(bytes.count * 2 / 3)), to: path)
        }
        try PipelineFixtures.write([0x89, 0x50, 0x4E, 0x47], to: "\(folder)/labels/\(brokenLabel).png")

        let report = try run(images: folder + "/img", labels: folder + "/labels", output: folder + "/out")
        XCTAssertEqual(report.kept, 7)
        XCTAssertEqual(report.droppedByReason, ["filtered": 2, "undecodable": 3])
        let reasons = Dictionary(uniqueKeysWithValues: report.droppedSamples.map { ($0.stem, $0.detail) })
        for stem in [kept, filtered, brokenLabel] {
            guard case .undecodable(let file, let message)? = reasons[stem] else {
                XCTFail("\(stem): \(String(describing: reasons[stem]))")
                continue
            }
            XCTAssertEqual(file, stem + ".jpg")
            XCTAssertTrue(message.contains("truncated"), "\(stem): \(message)")
        }
        for subfolder in ["train", "test", "cihp_train_mask", "cihp_test_mask"] {
            let written = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/out/\(subfolder)")
            XCTAssertEqual(written.count, subfolder.contains("train") ? 6 : 1, subfolder)
            XCTAssertFalse(written.contains { $0.hasPrefix(PreparedLayout.flatStem(kept)) }, "\(subfolder): \(written)")
        }
    }
}
