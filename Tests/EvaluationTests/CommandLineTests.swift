import Foundation
import ImageIO
import Records
import Tensor
import XCTest
import _TestSupport

@testable import Evaluation

/// Runs the built `smis evaluate` end to end with random weights: lpips and fid on files, and a
/// whole evaluation of a one-step tiny checkpoint.
final class CommandLineTests: TemporaryFolderTestCase {
    private func run(_ arguments: [String]) throws -> BuiltTool.Result {
        try BuiltTool.run("smis", ["evaluate"] + arguments, environment: ["TENSOR_THREADS": "1"])
    }

    func testLPIPSPrintsTheLibrarysDistanceAndRefusesPhotosOfTwoSizes() throws {
        let weights = folder.appendingPathComponent("lpips.safetensors")
        try writeRandomWeights(LPIPS.weightShapes, to: weights, seed: 4)
        let (a, b) = (photo(seed: 1, width: 40, height: 36), photo(seed: 2, width: 40, height: 36))
        let paths = try [a, b].enumerated().map { index, image in
            let url = folder.appendingPathComponent("\(index).png")
            try Data(image.encodedPNG()).write(to: url)
            return url.path
        }
        let result = try run(["lpips", paths[0], paths[1], "--lpips-weights", weights.path, "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let expected = try LPIPS(contentsOf: weights).distance(photos: a, b)
        XCTAssertEqual(try XCTUnwrap(object["lpips"] as? Double), Double(expected), accuracy: 1e-6)
        let text = try run(["lpips", paths[0], paths[1], "--lpips-weights", weights.path])
        XCTAssertEqual(text.output, String(format: "LPIPS %.6f\n", expected))

        let small = folder.appendingPathComponent("small.png")
        try Data(photo(seed: 3, width: 32, height: 32).encodedPNG()).write(to: small)
        let refused = try run(["lpips", paths[0], small.path, "--lpips-weights", weights.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.errors.contains("is 40×36 but \(small.path) is 32×32"), refused.errors)
    }

    func testFIDOfTwoFoldersAndAMissingWeightFile() throws {
        let weights = folder.appendingPathComponent("inception.safetensors")
        try writeRandomWeights(FIDInception.weightShapes, to: weights, seed: 5) { $0.hasSuffix("running_var") }
        for (name, offset) in [("real", 0), ("fake", 10)] {
            let directory = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for index in 0..<3 {
                let image = photo(seed: UInt64(offset + index), width: 24, height: 20)
                try Data(image.encodedPNG()).write(to: directory.appendingPathComponent("\(index).png"))
            }
        }
        let arguments = [
            "fid", "--real", folder.appendingPathComponent("real").path, "--fake",
            folder.appendingPathComponent("fake").path, "--inception-weights", weights.path
        ]
        let result = try run(arguments + ["--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["real_images"] as? Int, 3)
        XCTAssertGreaterThan(try XCTUnwrap(object["fid"] as? Double), 0)

        let missing = try run(Array(arguments.dropLast()) + [folder.appendingPathComponent("none").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.errors.contains("none.safetensors") || missing.errors.contains("/none"), missing.errors)
    }

    func testEvaluatesATinyCheckpointOnItsValidationSplit() throws {
        let shards = folder.appendingPathComponent("shards"), runFolder = folder.appendingPathComponent("run")
        try writeShards(to: shards)
        let trained = try BuiltTool.run(
            "smis",
            [
                "train", "--shards", shards.path, "--out", runFolder.path, "--preset", "tiny", "--max-steps", "1",
                "--batch-size", "2"
            ],
            environment: ["TENSOR_THREADS": "1"])
        XCTAssertEqual(trained.status, 0, trained.errors)
        let inception = folder.appendingPathComponent("inception.safetensors")
        try writeRandomWeights(FIDInception.weightShapes, to: inception, seed: 5) { $0.hasSuffix("running_var") }
        let lpips = folder.appendingPathComponent("lpips.safetensors")
        try writeRandomWeights(LPIPS.weightShapes, to: lpips, seed: 4)
        let result = try run([
            "--checkpoint", runFolder.path, "--shards", shards.path, "--inception-weights", inception.path,
            "--lpips-weights", lpips.path, "--samples", "2", "--json", "--report",
            folder.appendingPathComponent("report").path, "--report-maps", "1",
        ])
        XCTAssertEqual(result.status, 0, result.errors)
        let evaluation = try JSONDecoder().decode(ModelEvaluationResult.self, from: Data(result.output.utf8))
        XCTAssertEqual(evaluation.images, 2)
        XCTAssertEqual(evaluation.split, "validation")
        XCTAssertTrue([evaluation.fid, evaluation.mcsd, evaluation.mocd, evaluation.lpips].allSatisfy(\.isFinite))
        XCTAssertGreaterThan(evaluation.fps, 0)
        XCTAssertGreaterThan(evaluation.parameters, 0)
        XCTAssertTrue(result.errors.contains("evaluated label map 2/2"), result.errors)
        // The page: the table, and for the one map shown its label map, z₀'s image and two
        // resamples for each of the classes present (every one of the eight in these bands).
        let page = try String(contentsOf: folder.appendingPathComponent("report/index.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<th>mCSD ↑</th>") && page.contains("validation-0"), page)
        let pictures = try FileManager.default.contentsOfDirectory(
            atPath: folder.appendingPathComponent("report/images").path)
        XCTAssertEqual(pictures.count, 2 + 8 * 2, pictures.sorted().joined(separator: " "))
        XCTAssertTrue(page.contains("images/0-class3-2.png") && page.contains(">top-clothes<"), page)
    }

    /// Four training and two validation records of 64×64: horizontal bands of the eight classes.
    private func writeShards(to directory: URL) throws {
        let classes = ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"]
        func source(_ split: String, _ count: Int) -> RecordSource {
            RecordSource(split: split, count: count, identity: { "\(split)/\($0)" }) { number in
                let values = (0..<64 * 64).map { UInt8(($0 / 64 / 8 + number) % 8) }
                return try SegmentationRecord.example(
                    key: "\(split)-\(number)", photo: .pixels(self.photo(seed: UInt64(number), width: 64, height: 64)),
                    label: LabelMap(width: 64, height: 64, values: values), classCount: 8, imageEncoding: .raw,
                    labelEncoding: .raw
                ).encoded()
            }
        }
        let configuration = ShardSetWriter.Configuration(
            directory: directory, sizing: .records(3), toolVersion: "evaluation tests",
            schema: SegmentationRecord.schema, classes: classes, settings: ["image": "raw", "label": "raw"])
        _ = try ShardSetWriter(configuration: configuration).write([source("train", 4), source("validation", 2)])
    }

    private func photo(seed: UInt64, width: Int, height: Int) -> Image {
        var random = RandomSource(seed: seed)
        return Image(
            width: width, height: height,
            pixels: (0..<width * height * 3).map { _ in UInt8.random(in: 0...255, using: &random) })
    }
}
