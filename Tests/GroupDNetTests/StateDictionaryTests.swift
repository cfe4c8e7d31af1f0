import _TestSupport
import Foundation
import GroupDNet
import Tensor
import XCTest

/// The DeepFashion preset against the reference's state_dict listing
/// (../shared/spec/reference-state-dict.tsv) and the parameter counts of groupdnet.md §6.
/// Building the full model allocates about 460 MB, once for the class.
final class StateDictionaryTests: XCTestCase {
    nonisolated(unsafe) static var deepFashion: GroupDNetModel?

    static func model() throws -> GroupDNetModel {
        if let deepFashion { return deepFashion }
        var random = RandomSource(seed: 1)
        let model = try GroupDNetModel(.deepFashion, using: &random)
        deepFashion = model
        return model
    }

    override class func tearDown() { deepFashion = nil }

    func testDeepFashionNamesShapesAndDtypesEqualTheReferenceListing() throws {
        let listing = TestPaths.shared.appendingPathComponent("spec/reference-state-dict.tsv")
        guard FileManager.default.fileExists(atPath: listing.path) else {
            throw XCTSkip("\(listing.path) is not present")
        }
        var expected: [String: [String: String]] = ["G": [:], "E": [:], "D": [:]]
        for line in try String(contentsOf: listing, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            XCTAssertEqual(fields.count, 4, "row \(line)")
            expected[fields[0], default: [:]][fields[1]] = "\(fields[2])\t\(fields[3])"
        }
        XCTAssertEqual(expected.values.map(\.count).reduce(0, +), 282)
        let model = try Self.model()
        for (network, module) in [("G", model.generator as Module), ("E", model.encoder), ("D", model.discriminator)] {
            var actual: [String: String] = [:]
            for (key, entry) in module.checkpointEntries {
                let shape = entry.shape.isEmpty ? "scalar" : entry.shape.map(String.init).joined(separator: "x")
                actual[key] = "\(shape)\t\(entry.dtype.rawValue)"
            }
            let reference = expected[network]!
            for key in reference.keys.sorted() where actual[key] != reference[key] {
                XCTFail("\(network) \(key): reference \(reference[key]!), Swift \(actual[key] ?? "missing")")
            }
            for key in actual.keys.sorted() where reference[key] == nil {
                XCTFail("\(network) \(key): not in the reference state_dict")
            }
            XCTAssertEqual(actual.count, reference.count, network)
        }
    }

    func testDeepFashionParameterCountsMatchTheSpecification() throws {
        let model = try Self.model()
        // §6: G 96.32 M, E 12.84 M, D 5.54 M (G + E = 109.1 M of the supplementary's Table 1).
        XCTAssertEqual(Double(model.generator.parameterCount) / 1e6, 96.32, accuracy: 0.005)
        XCTAssertEqual(Double(model.encoder.parameterCount) / 1e6, 12.84, accuracy: 0.005)
        XCTAssertEqual(Double(model.discriminator.parameterCount) / 1e6, 5.54, accuracy: 0.005)
        // Table 1's 109.1 M truncates G + E = 109.16 M.
        XCTAssertEqual(
            Double(model.generator.parameterCount + model.encoder.parameterCount) / 1e6, 109.1, accuracy: 0.1)
    }

    func testDeepFashionGeneratorFlopsMatchTheSpecification() throws {
        // groupdnet.md quotes 583 GFLOP for one 256×256 forward pass of G.
        XCTAssertEqual(try Self.model().generator.forwardFlops / 1e9, 583, accuracy: 1)
    }

    func testParameterNamesAreStateDictKeysAndUnique() throws {
        var random = RandomSource(seed: 2)
        let model = try GroupDNetModel(.tiny, using: &random)
        let names = model.generatorAndEncoderParameters.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "G and E parameter names collide")
        XCTAssertTrue(names.contains("head_0.conv_0.weight_orig"))
        XCTAssertTrue(names.contains("head_0.norm_0.mlp_shared.0.weight"))
        XCTAssertTrue(names.contains("layer1.0.weight_orig"))
        XCTAssertFalse(
            names.contains { $0.hasSuffix("weight_u") || $0.contains("running") }, "buffers are not parameters")
        XCTAssertTrue(model.discriminator.parameters.map(\.name).contains("discriminator_0.model1.0.0.weight_orig"))
        // The tiny preset's keys are exactly those of the PyTorch script's tiny networks.
        for (name, module) in [("G", model.generator as Module), ("E", model.encoder), ("D", model.discriminator)] {
            let file = try SafeTensors.read(from: fixtures.appendingPathComponent("tiny_\(name).safetensors"))
            XCTAssertEqual(Set(module.checkpointEntries.keys), Set(file.entries.keys), name)
        }
    }
}
