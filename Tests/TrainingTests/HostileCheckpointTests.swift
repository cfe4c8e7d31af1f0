import Foundation
import GroupDNet
import Records
import Tensor
@testable import Training
import XCTest
import _TestSupport

/// Checkpoints and shard sets from someone else, as `smis generate` and `smis train` meet
/// them: every number read from a file is bounded, every size checked, every name kept inside
/// its folder, and the refusal names the file.
final class HostileCheckpointTests: TemporaryFolderTestCase {
    /// A real checkpoint of the tiny preset (one step), and its `state.json`.
    private func checkpoint() throws -> (folder: URL, state: URL) {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 2)
        let outcome = try Trainer(options: tinyOptions(shards: shards, run: "run", maxSteps: 1), resume: false).run()
        return (outcome.checkpoint, outcome.checkpoint.appendingPathComponent("state.json"))
    }

    /// `state.json` with `change` applied to its JSON object.
    private func edit(_ state: URL, _ change: (inout [String: Any]) -> Void) throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: state)) as? [String: Any])
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: state)
    }

    /// The hand-found bug: `classCount: 100000` built a giant model for minutes. It is refused
    /// by its bound before anything is built, naming the file and the number.
    func testAClassCountNoModelHasIsRefusedBeforeBuilding() throws {
        let (checkpoint, state) = try checkpoint()
        try edit(state) { object in
            var configuration = object["configuration"] as! [String: Any]
            configuration["classCount"] = 100_000
            object["configuration"] = configuration
        }
        XCTAssertThrowsError(try TrainingCheckpoint.readState(checkpoint)) { error in
            XCTAssertEqual(
                "\(error)",
                "\(state.path): impossible model: configuration: invalid configuration: "
                    + "classCount 100000 is outside 1...256"
            )
        }
        XCTAssertThrowsError(try ImageSynthesizer(checkpoint: checkpoint))
        let generate = try BuiltTool.run(
            "smis", ["generate", "--checkpoint", checkpoint.path, "--labels", "none.png", "--out", folder.path])
        XCTAssertEqual(generate.status, 1)
        XCTAssertTrue(generate.errors.contains("classCount 100000 is outside 1...256"), generate.errors)
    }

    /// Every other number of the file has its bound too: the layout's, the options' (a resume
    /// continues with them) and the counters'.
    func testEveryNumberOfTheStateIsBounded() throws {
        let (checkpoint, state) = try checkpoint()
        let original = try Data(contentsOf: state)
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            (
                "encoder.layerCount 64 is outside 1...12",
                { Self.set(&$0, "configuration", "encoder", "layerCount", 64) }
            ),
            ("imageHeight -4 is outside 1...4096", { Self.set(&$0, "configuration", "imageHeight", -4) }),
            (
                "generator.baseChannels 2000 is outside 1...1024",
                { Self.set(&$0, "configuration", "generator", "baseChannels", 2000) }
            ),
            (
                "discriminator.maximumChannels 0",
                { Self.set(&$0, "configuration", "discriminator", "maximumChannels", 0) }
            ),
            (
                "over the limit of 500 M",
                {
                    Self.set(&$0, "configuration", "discriminator", "baseChannels", 16384)
                    Self.set(&$0, "configuration", "discriminator", "maximumChannels", 16384)
                }
            ),
            ("batchSize 4611686018427387904 is outside 1...65536", { Self.set(&$0, "options", "batchSize", 1 << 62) }),
            (
                "the global batch",
                {
                    Self.set(&$0, "options", "ranks", 60_000); Self.set(&$0, "options", "batchSize", 60_000)
                }
            ),
            ("saveEvery 0", { Self.set(&$0, "options", "saveEvery", 0) }),
            ("impossible state: step -1", { $0["step"] = -1 }),
            ("2 class names for 8 classes", { $0["classes"] = ["a", "b"] })
        ]
        for (expected, change) in cases {
            try original.write(to: state)
            try edit(state, change)
            XCTAssertThrowsError(try TrainingCheckpoint.readState(checkpoint), expected) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(expected): \(error)")
                XCTAssertTrue("\(error)".hasPrefix(state.path), "\(error)")
            }
        }
        try original.write(to: state)
        XCTAssertNoThrow(try TrainingCheckpoint.readState(checkpoint))
    }

    /// The bounds admit the presets, and the estimate they use counts a built model's weights.
    func testThePresetsFitTheBoundsAndTheEstimateCountsTheWeights() throws {
        XCTAssertNoThrow(try GroupDNetConfiguration.deepFashion.validate())
        var random = RandomSource(seed: 1)
        let tiny = GroupDNetConfiguration.tiny
        let built =
            try Generator(tiny, using: &random).parameterCount + Encoder(tiny, using: &random).parameterCount
            + Discriminator(tiny, using: &random).parameterCount
        let estimate = tiny.estimatedParameterCount
        XCTAssertLessThanOrEqual(estimate, Double(built), "weights only: biases are left out")
        XCTAssertGreaterThan(estimate, 0.97 * Double(built), "biases are a few percent")
        XCTAssertEqual(GroupDNetConfiguration.deepFashion.estimatedParameterCount / 1e6, 114.7, accuracy: 1.5)
    }

    /// The hand-found bug: a `net_G.safetensors` header claiming [2³¹, 2³¹, 4] trapped on the
    /// overflow of its element count. The file is refused, naming it and the tensor.
    func testATensorShapeWhoseSizeOverflowsIsRefused() throws {
        let (checkpoint, _) = try checkpoint()
        let header = #"{"fc.weight":{"dtype":"F32","shape":[2147483648,2147483648,4],"data_offsets":[0,16]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 16)
        let generator = checkpoint.appendingPathComponent("net_G.safetensors")
        try Data(bytes).write(to: generator)
        let generate = try BuiltTool.run(
            "smis", ["generate", "--checkpoint", checkpoint.path, "--labels", "none.png", "--out", folder.path])
        XCTAssertEqual(generate.status, 1, generate.errors)
        XCTAssertTrue(generate.errors.contains(generator.path), generate.errors)
        XCTAssertTrue(generate.errors.contains("fc.weight"), generate.errors)
        XCTAssertTrue(generate.errors.contains("needs more than 2⁶³"), generate.errors)
    }

    /// `smis train` refuses a shard set whose manifest names a file outside its folder.
    func testTrainingRefusesAManifestNamingAFileOutside() throws {
        let shards = folder.appendingPathComponent("shards")
        try SyntheticShards.write(to: shards, count: 4)
        var manifest = try Manifest(directory: shards)
        manifest.shards[0].name = "../../etc/passwd"
        try manifest.write(to: shards)
        let train = try BuiltTool.run(
            "smis",
            [
                "train", "--shards", shards.path, "--out", folder.appendingPathComponent("run").path,
                "--preset", "tiny", "--max-steps", "1"
            ])
        XCTAssertEqual(train.status, 1)
        XCTAssertTrue(train.errors.contains("\"../../etc/passwd\", which is not a file name inside"), train.errors)
        XCTAssertTrue(train.errors.contains(shards.appendingPathComponent("manifest.json").path), train.errors)
    }

    /// Sets `value` at the path of keys in a JSON object.
    private static func set(_ object: inout [String: Any], _ first: String, _ value: Any) {
        object[first] = value
    }

    private static func set(_ object: inout [String: Any], _ first: String, _ second: String, _ value: Any) {
        var inner = object[first] as! [String: Any]
        inner[second] = value
        object[first] = inner
    }

    private static func set(
        _ object: inout [String: Any], _ first: String, _ second: String, _ third: String, _ value: Any
    ) {
        var inner = object[first] as! [String: Any]
        set(&inner, second, third, value)
        object[first] = inner
    }
}
