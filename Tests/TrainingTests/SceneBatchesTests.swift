import Foundation
import GroupDNet
import ImageIO
import Records
import Tensor
import Training
import XCTest
import _TestSupport

/// The scene presets' training inputs from shards of the committed fixtures (prepared by the
/// built smisprep): Cityscapes' instance-edge channel computed after the flip, ADE20K's random
/// crops of the larger training records, as the reference's data loading does them.
final class SceneBatchesTests: TemporaryFolderTestCase {
    private func shards(_ command: String, _ sizes: [String]) throws -> URL {
        let root = TestPaths.fixtures.appendingPathComponent(command).path
        let out = folder.appendingPathComponent(command)
        let result = try BuiltTool.run(
            "smisprep",
            [command, "--root", root, "--out", out.path + "/prepared", "--shards", out.path + "/shards"] + sizes)
        XCTAssertEqual(result.status, 0, result.errors)
        return out.appendingPathComponent("shards")
    }

    /// The README's path on the fixtures: prepare, shard, one training step at the reduced
    /// preset, then per-class resampling with the checkpoint (Cityscapes with its instance map;
    /// refused without one).
    func testFixturesPrepareShardTrainAndGenerateAtBothPresets() throws {
        let cases = [
            ("cityscapes", ["--size", "128x64"], "cityscapes-tiny", "frankfurt-frankfurt_000003_000019", "car"),
            ("ade20k", ["--size", "64x64", "--train-size", "72x72"], "ade20k-tiny", "ADE_val_00000001", "bed"),
        ]
        for (command, sizes, preset, stem, resampled) in cases {
            let shards = try self.shards(command, sizes)
            let base = shards.deletingLastPathComponent()
            let run = base.appendingPathComponent("run").path
            let environment = ["TENSOR_THREADS": "1"]
            let trained = try BuiltTool.run(
                "smis", ["train", "--preset", preset, "--shards", shards.path, "--out", run, "--max-steps", "1"],
                environment: environment)
            XCTAssertEqual(trained.status, 0, trained.errors)
            XCTAssertTrue(trained.output.contains("finished at step 1"), trained.output)
            let label = base.appendingPathComponent("prepared/cihp_test_mask/\(stem).png").path
            var arguments = [
                "generate", "--checkpoint", run, "--labels", label, "--out", base.appendingPathComponent("images").path,
                "--resample-class", resampled, "--samples", "2",
            ]
            if command == "cityscapes" {
                let refused = try BuiltTool.run("smis", arguments, environment: environment)
                XCTAssertNotEqual(refused.status, 0)
                XCTAssertTrue(refused.errors.contains("give --instances"), refused.errors)
                arguments += ["--instances", base.appendingPathComponent("prepared/test_instance/\(stem).png").path]
            }
            let generated = try BuiltTool.run("smis", arguments, environment: environment)
            XCTAssertEqual(generated.status, 0, generated.errors)
            for sample in 1...2 {
                let image = try Image(
                    contentsOfFile: base.appendingPathComponent("images/\(stem)-\(resampled)-\(sample).png").path)
                let size = GroupDNetConfiguration.cityscapesTiny.imageWidth
                XCTAssertEqual(image.width, command == "cityscapes" ? size : 64)
            }
        }
    }

    /// Plane `channel` of sample 0 of an N × C × H × W tensor.
    private func plane(_ tensor: Tensor, _ channel: Int) -> [Float] {
        let size = tensor.shape[2] * tensor.shape[3]
        return Array(tensor.data[channel * size..<(channel + 1) * size])
    }

    func testCityscapesSegEndsWithTheEdgesOfTheFlippedInstanceMap() throws {
        let directory = try shards("cityscapes", ["--size", "128x64"])
        let configuration = GroupDNetConfiguration.cityscapesTiny
        let set = try ShardSet(directory: directory, split: "train")
        var instancesByKey: [String: InstanceMap] = [:]
        for index in 0..<set.count {
            let view = try set.segmentationRecord(at: index)
            instancesByKey[view.key] = try view.decodedInstances()
        }
        let batches = try ShardBatches(
            directory: directory, configuration: configuration, batchSize: 1, seed: 5, flip: true)
        var flipped = 0
        for _ in 0..<8 {
            let batch = try batches.next()
            let seg = batch.inputs.seg
            XCTAssertEqual(seg.shape, [1, 36, 64, 128])
            XCTAssertEqual(batch.inputs.splitImage.shape[1], 3 * 35, "the split image leaves the edges out")
            let index = batch.streamIndices[0]
            let flips = RunRandomness.flips(seed: 5, streamIndex: index)
            flipped += flips ? 1 : 0
            // Which record: the one whose class planes match (each sample differs).
            let matches = try instancesByKey.values.filter { map in
                var ids = map.values
                if flips {
                    for row in 0..<64 { ids[row * 128..<(row + 1) * 128].reverse() }
                }
                let edges = try ModelInput.instanceEdges(instances: ids, batch: 1, height: 64, width: 128)
                return edges.data == plane(seg, 35)
            }
            XCTAssertEqual(matches.count, 1, "stream index \(index): the edges are one record's, flipped: \(flips)")
            XCTAssertTrue(plane(seg, 35).contains(1))
        }
        XCTAssertTrue((1...7).contains(flipped), "\(flipped) of 8 flipped")
    }

    func testADE20KTrainsOnRandomWindowsOfTheLoadSize() throws {
        let directory = try shards("ade20k", ["--size", "64x64", "--train-size", "72x72"])
        let set = try ShardSet(directory: directory, split: "train")
        var photos: [String: Image] = [:]
        for index in 0..<set.count {
            let view = try set.segmentationRecord(at: index)
            photos[view.key] = try view.decoded().image
        }
        XCTAssertEqual(photos.values.first.map { [$0.width, $0.height] }, [72, 72])
        let batches = try ShardBatches(
            directory: directory, configuration: .ade20kTiny, batchSize: 1, seed: 9, flip: false, crop: true)
        var origins = Set<[Int]>()
        for _ in 0..<8 {
            let batch = try batches.next()
            XCTAssertEqual(batch.inputs.seg.shape, [1, 151, 64, 64])
            let origin = RunRandomness.cropOrigin(
                seed: 9, streamIndex: batch.streamIndices[0], recordWidth: 72, recordHeight: 72, width: 64, height: 64)
            origins.insert([origin.x, origin.y])
            let expected = photos.values.map { photo -> [UInt8] in
                var window: [UInt8] = []
                for row in origin.y..<origin.y + 64 {
                    window += photo.pixels[(row * 72 + origin.x) * 3..<(row * 72 + origin.x + 64) * 3]
                }
                return window
            }
            let actual = batch.inputs.image
            let matching = expected.filter { window in
                let tensor = try? ModelInput.image(rgb: window, batch: 1, height: 64, width: 64)
                return tensor?.data == actual.data
            }
            XCTAssertEqual(matching.count, 1, "the batch is the window at \(origin) of one record")
        }
        XCTAssertGreaterThan(origins.count, 1, "windows are drawn, not fixed")
        XCTAssertThrowsError(
            try ShardBatches(directory: directory, configuration: .ade20kTiny, batchSize: 1, seed: 9, crop: false),
            "without crop, records larger than the model are refused as before")
    }
}
