import Foundation
import GroupDNet
import SeededRandom
import Tensor
import XCTest
import _TestSupport

/// G, E and D of the Cityscapes and ADE20K layouts against the reference's own networks in
/// evaluation mode, from the same weights, on one fixture sample each
/// (Fixtures/make_scene_reference.py: reduced widths at the reference's image sizes; its
/// docstring gives the weight formula this test repeats, and the stored buffers).
final class SceneReferenceTests: XCTestCase {
    func testCityscapesForwardMatchesTheReference() throws {
        try SceneReference(preset: "cityscapes").check()
    }

    func testADE20KForwardMatchesTheReference() throws {
        try SceneReference(preset: "ade20k").check()
    }
}

/// The same at the presets' full widths, from `.cache/reference-scene-full` (written by
/// make_scene_reference.py --full; scripts/test-reference-full runs these one at a time).
final class SceneReferenceFullSizeTests: XCTestCase {
    private func folder() throws -> URL {
        let folder = TestPaths.cache.appendingPathComponent("reference-scene-full")
        guard ProcessInfo.processInfo.environment["SMIS_REFERENCE_FULL"] == "1" else {
            throw XCTSkip("full-size reference comparison not requested: scripts/test-reference-full runs it")
        }
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("ade20k.safetensors").path) else {
            throw XCTSkip("no full-size scene fixtures in \(folder.path): run scripts/test-reference-full")
        }
        return folder
    }

    func testCityscapesForwardMatchesTheReference() throws {
        try SceneReference(preset: "cityscapes", folder: folder()).check()
    }

    func testADE20KForwardMatchesTheReference() throws {
        try SceneReference(preset: "ade20k", folder: folder()).check()
    }
}

struct SceneReference {
    let reference: SafeTensors.File
    let configuration: GroupDNetConfiguration

    init(preset: String, folder: URL = fixtures.appendingPathComponent("scene")) throws {
        let file = try SafeTensors.read(from: folder.appendingPathComponent("\(preset).safetensors"))
        reference = file
        let metadata = file.metadata
        if metadata["encoder"] == "full" {
            configuration = preset == "cityscapes" ? .cityscapes : .ade20k
            return
        }
        func value(_ key: String) throws -> Int { try XCTUnwrap(Int(metadata[key] ?? ""), key) }
        let (ngf, ndf, encoder) = (try value("ngf"), try value("ndf"), try value("encoder"))
        configuration = preset == "cityscapes"
            ? .cityscapesFamily(
                imageHeight: 256, baseChannels: ngf, encoderWidth: encoder, discriminatorChannels: ndf)
            : .ade20kFamily(imageSize: 256, baseChannels: ngf, encoderWidth: encoder, discriminatorChannels: ndf)
    }

    /// FNV-1a, 64 bits, of `text`'s UTF-8 bytes: the seed of a parameter's values.
    static func fnv1a64(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// The script's weight formula: (2u − 1)·s, u from SplitMix64 seeded with the name's
    /// hash, s = 0.1 for biases and √(3 / fan-in) for weights.
    static func formula(_ name: String, shape: [Int]) -> [Float] {
        let count = shape.reduce(1, *), fanIn = shape.dropFirst().reduce(1, *)
        let scale = name.hasSuffix("bias") ? 0.1 : (3.0 / Double(fanIn)).squareRoot()
        var random = SplitMix64(seed: fnv1a64(name))
        return (0..<count).map { _ in Float((2 * random.unit() - 1) * scale) }
    }

    /// Every entry of `module`: the stored buffer where the script stored one, else the formula.
    func load(_ module: Module, network: String) throws {
        var entries: [String: SafeTensors.Entry] = [:]
        for (key, entry) in module.checkpointEntries {
            entries[key] = reference.entries["buffer.\(network).\(key)"]
                ?? SafeTensors.Entry(
                    shape: entry.shape, floats: Self.formula("\(network).\(key)", shape: entry.shape))
        }
        try module.load(SafeTensors.File(entries: entries), file: "formula weights of \(network)")
    }

    func check() throws {
        var random = RandomSource(seed: 1)
        let generator = try Generator(configuration, using: &random)
        let encoder = try Encoder(configuration, using: &random)
        let discriminator = try Discriminator(configuration, using: &random)
        for (name, module) in [("G", generator as Module), ("E", encoder), ("D", discriminator)] {
            try load(module, network: name)
        }
        let (height, width) = (configuration.imageHeight, configuration.imageWidth)
        let instances = try reference.entries["input.instances"].map { entry -> [UInt16] in
            stride(from: 0, to: entry.bytes.count, by: 2).map {
                UInt16(entry.bytes[$0]) | UInt16(entry.bytes[$0 + 1]) << 8
            }
        }
        let seg = try ModelInput.seg(
            labels: reference.entry("input.labels").bytes, instances: instances, batch: 1, height: height,
            width: width, configuration: configuration)
        let image = try ModelInput.image(
            rgb: reference.entry("input.image_bytes").bytes, batch: 1, height: height, width: width)
        let fake = try Tensor.withoutGradients {
            try generator(seg: seg, z: reference.tensor("input.z"), training: false)
        }
        let scale = try reference.floats("eval.fake.scale")[0]
        let expected = ReferenceComparison.halfFloats(try reference.entry("eval.fake").bytes).map { $0 * scale }
        assertClose(fake.data, expected, Tolerance(absolute: scale / 4096, ofScale: 1e-4), "G eval")
        let split = try SplitImage.make(seg: seg, image: image, classes: configuration.classCount)
        let (mu, logVariance) = try Tensor.withoutGradients { try encoder(split, training: false) }
        assertClose(mu.data, try reference.floats("eval.mu"), Tolerance(ofScale: 1e-4), "E mu")
        assertClose(
            logVariance.data, try reference.floats("eval.logvar"), Tolerance(ofScale: 1e-4), "E logvar")
        let predictions = try Tensor.withoutGradients {
            try discriminator(Tensor.concatenateChannels([seg, image]), training: false)
        }
        for (index, outputs) in predictions.enumerated() {
            let expected = try reference.floats("eval.D.\(index)")
            assertClose(outputs.last!.data, expected, Tolerance(ofScale: 1e-4), "D scale \(index)")
        }
    }
}
