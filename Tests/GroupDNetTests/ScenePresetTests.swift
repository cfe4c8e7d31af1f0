import Foundation
import GroupDNet
import Tensor
import XCTest
import _TestSupport

/// The Cityscapes and ADE20K presets against the reference's own networks: every state_dict
/// entry (name, shape, dtype) and the parameter counts of issue 18, as listed by
/// Fixtures/make_scene_state_dicts.py from the reference's code. Builds each full model once
/// (about 350 MB at a time).
final class ScenePresetTests: XCTestCase {
    /// preset → network → name → "shape\tdtype", and preset → network → parameter count.
    private static func listing() throws -> (entries: [String: [String: [String: String]]], counts: [String: Int]) {
        let file = fixtures.appendingPathComponent("scene-state-dicts.tsv")
        var entries: [String: [String: [String: String]]] = [:]
        var counts: [String: Int] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.first == "# count" {
                counts["\(fields[1]) \(fields[2])"] = Int(fields[3])
            } else if !line.hasPrefix("#") {
                XCTAssertEqual(fields.count, 5, "row \(line)")
                entries[fields[0], default: [:]][fields[1], default: [:]][fields[2]] = "\(fields[3])\t\(fields[4])"
            }
        }
        return (entries, counts)
    }

    private func check(_ preset: String, _ configuration: GroupDNetConfiguration, counts expected: [Int]) throws {
        let listing = try Self.listing()
        var random = RandomSource(seed: 3)
        let networks: [(String, Module)] = [
            ("G", try Generator(configuration, using: &random)), ("E", try Encoder(configuration, using: &random)),
            ("D", try Discriminator(configuration, using: &random)),
        ]
        for ((name, module), count) in zip(networks, expected) {
            XCTAssertEqual(module.parameterCount, count, "\(preset) \(name) parameters (issue 18)")
            XCTAssertEqual(listing.counts["\(preset) \(name)"], count, "\(preset) \(name) in the reference listing")
            var actual: [String: String] = [:]
            for (key, entry) in module.checkpointEntries {
                let shape = entry.shape.isEmpty ? "scalar" : entry.shape.map(String.init).joined(separator: "x")
                actual[key] = "\(shape)\t\(entry.dtype.rawValue)"
            }
            let reference = listing.entries[preset]?[name] ?? [:]
            for key in reference.keys.sorted() where actual[key] != reference[key] {
                XCTFail("\(preset) \(name) \(key): reference \(reference[key]!), Swift \(actual[key] ?? "missing")")
            }
            for key in actual.keys.sorted() where reference[key] == nil {
                XCTFail("\(preset) \(name) \(key): not in the reference state_dict")
            }
            XCTAssertEqual(actual.count, reference.count, "\(preset) \(name) state_dict entries")
        }
    }

    func testCityscapesMatchesTheReferenceStateDictAndCounts() throws {
        try check("cityscapes", .cityscapes, counts: [76_501_358, 5_768_210, 5_601_410])
        XCTAssertEqual(GroupDNetConfiguration.cityscapes.latentShape(batch: 1), [1, 35 * 8, 4, 8])
        XCTAssertEqual(GroupDNetConfiguration.cityscapes.segChannels, 36)
    }

    func testADE20KMatchesTheReferenceStateDictAndCounts() throws {
        try check("ade20k", .ade20k, counts: [68_326_847, 4_411_012, 5_836_930])
        XCTAssertEqual(GroupDNetConfiguration.ade20k.segChannels, 151)
    }

    /// The reduced presets the fixtures train with keep every layer of the full ones, and
    /// their layouts validate.
    func testTinyScenePresetsHaveTheFullPresetsLayers() throws {
        let pairs: [(GroupDNetConfiguration, GroupDNetConfiguration)] = [
            (.cityscapesTiny, .cityscapes), (.ade20kTiny, .ade20k),
        ]
        for (tiny, full) in pairs {
            XCTAssertNoThrow(try tiny.validate())
            XCTAssertEqual(tiny.generator.blocks.map(\.name), full.generator.blocks.map(\.name))
            XCTAssertEqual(tiny.generator.blocks.map(\.groups), full.generator.blocks.map(\.groups))
            XCTAssertEqual(tiny.classCount, full.classCount)
            XCTAssertEqual(tiny.hasInstanceEdges, full.hasInstanceEdges)
        }
    }

    /// Instance edges as the reference's `get_edges`: a pixel is an edge when its left,
    /// right, upper or lower neighbour has another id.
    func testInstanceEdgesMarkBothSidesOfEveryIdChange() throws {
        let ids: [UInt16] = [
            1, 1, 2,
            1, 1, 2,
            3, 3, 3,
        ]
        let edges = try ModelInput.instanceEdges(instances: ids, batch: 1, height: 3, width: 3)
        XCTAssertEqual(edges.shape, [1, 1, 3, 3])
        XCTAssertEqual(edges.data, [0, 1, 1, 1, 1, 1, 1, 1, 1])
    }
}
