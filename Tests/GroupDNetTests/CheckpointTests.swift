import Foundation
import _TestSupport
import GroupDNet
import Tensor
import XCTest

/// safetensors reading and writing, and strict checkpoint loading.
final class CheckpointTests: TemporaryFolderTestCase {
    func testEncodingHasTheDocumentedLayout() throws {
        let file = SafeTensors.File(entries: ["b": .init(shape: [2], floats: [1, -2]), "a": .init(int64Scalar: 9)])
        let data = try SafeTensors.encode(file)
        let headerLength = Int(
            data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(
            header,
            #"{"a":{"data_offsets":[0,8],"dtype":"I64","shape":[]},"b":{"data_offsets":[8,16],"dtype":"F32","shape":[2]}}"#
        )
        XCTAssertEqual(Array(data[(8 + headerLength)...]), [9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        XCTAssertEqual(data.count, 8 + headerLength + 16)
    }

    func testRoundTripKeepsEveryEntryAndMetadata() throws {
        let url = folder.appendingPathComponent("round.safetensors")
        let file = SafeTensors.File(
            entries: [
                "w": .init(shape: [2, 3], floats: [1, 2, 3, 4, 5, .pi]),
                "n": .init(int64Scalar: -5), "empty": .init(shape: [0, 4], floats: [])
            ],
            metadata: ["format": "pt"])
        try SafeTensors.write(file, to: url)
        XCTAssertEqual(try Data(contentsOf: url), try SafeTensors.encode(file), "streamed as encoded")
        let read = try SafeTensors.read(from: url)
        XCTAssertEqual(read.entries, file.entries, "entries read as bytes equal the same made from floats")
        XCTAssertNotEqual(read.entries["w"], SafeTensors.Entry(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(read.entries["w"]?.floats, [1, 2, 3, 4, 5, .pi])
        XCTAssertEqual(read.metadata, ["format": "pt"])
        XCTAssertEqual(read.entries["n"]?.int64s, [-5])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: folder.path), ["round.safetensors"],
            "no temporary file left")
    }

    func testAFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        let url = folder.appendingPathComponent("keep.safetensors")
        let original = SafeTensors.File(entries: ["a": .init(shape: [1], floats: [1])])
        try SafeTensors.write(original, to: url)
        // An entry whose bytes do not fit its shape fails while encoding, before any file is touched.
        let broken = SafeTensors.File(entries: ["a": .init(dtype: .float32, shape: [2], bytes: [0, 0, 0])])
        XCTAssertThrowsError(try SafeTensors.write(broken, to: url)) {
            XCTAssertEqual("\($0)", "(encoding): tensor a: 3 bytes for F32 [2]")
        }
        XCTAssertEqual(try SafeTensors.read(from: url).entries, original.entries)
        // A folder that does not exist: the error names the destination.
        let missing = folder.appendingPathComponent("no/such/folder/x.safetensors")
        XCTAssertThrowsError(try SafeTensors.write(original, to: missing)) {
            XCTAssertTrue("\($0)".hasPrefix(missing.path + ": cannot create"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["keep.safetensors"])
    }

    func testModelCheckpointFolderRoundTripsAndAFailedLoadChangesNothing() throws {
        var random = RandomSource(seed: 6)
        let model = try GroupDNetModel(.tiny, using: &random)
        let other = try GroupDNetModel(.tiny, using: &random)
        try model.saveCheckpoints(in: folder, prefix: "epoch_3")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
            ["epoch_3_net_D.safetensors", "epoch_3_net_E.safetensors", "epoch_3_net_G.safetensors"])
        let before = other.generator.checkpointEntries
        try FileManager.default.removeItem(at: GroupDNetModel.checkpointFiles(in: folder, prefix: "epoch_3").encoder)
        XCTAssertThrowsError(try other.loadCheckpoints(in: folder, prefix: "epoch_3")) {
            XCTAssertTrue("\($0)".contains("epoch_3_net_E.safetensors: cannot read"), "\($0)")
        }
        XCTAssertEqual(other.generator.checkpointEntries, before, "G changed although E could not be read")
        try model.saveCheckpoints(in: folder, prefix: "epoch_3")
        try other.loadCheckpoints(in: folder, prefix: "epoch_3")
        for (loaded, saved) in [
            (other.generator as Module, model.generator as Module), (other.encoder, model.encoder),
            (other.discriminator, model.discriminator)
        ] {
            XCTAssertEqual(loaded.checkpointEntries, saved.checkpointEntries)
        }
    }

    func testReadsAFileWrittenByPythonSafetensors() throws {
        // tiny_E.safetensors was written by safetensors.torch.save_file.
        let file = try SafeTensors.read(from: fixtures.appendingPathComponent("tiny_E.safetensors"))
        XCTAssertEqual(file.entries["layer1.0.weight_orig"]?.shape, [16, 3, 3, 3])
        XCTAssertEqual(file.entries["fc_mu.bias"]?.dtype, .float32)
    }

    func testMalformedFilesAreRejectedWithTheTensorAndOffset() throws {
        let good = try SafeTensors.encode(
            SafeTensors.File(entries: ["weight": .init(shape: [4], floats: [1, 2, 3, 4])]))
        func error(_ data: Data) -> String {
            do { _ = try SafeTensors.decode(data, path: "x.safetensors"); return "no error" } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error(good.prefix(5)).contains("shorter than the 8-byte header length"), error(good.prefix(5)))
        XCTAssertTrue(error(good.dropLast(4)).contains("tensor weight: data_offsets [0, 16]"), error(good.dropLast(4)))
        var wrongLength = good
        wrongLength[0] = 0xFF
        XCTAssertTrue(error(wrongLength).contains("exceeds"), error(wrongLength))
        let badType = Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "F32", with: "F16").utf8)
        XCTAssertTrue(error(badType).contains("tensor weight: dtype F16 is not supported"), error(badType))
        let badShape = Data(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "[4]", with: "[3]").utf8)
        XCTAssertTrue(error(badShape).contains("16 data bytes at byte"), error(badShape))
    }

    func testLoadingNamesTheTensorAndWhatDiffersAndChangesNothing() throws {
        var random = RandomSource(seed: 3)
        let encoder = try Encoder(.tiny, using: &random)
        let before = encoder.checkpointEntries
        func loadError(_ change: (inout SafeTensors.File) -> Void) -> String {
            var file = SafeTensors.File(entries: before)
            file.entries["fc_mu.bias"] = .init(shape: [64], floats: [Float](repeating: 7, count: 64))
            change(&file)
            do { try encoder.load(file, file: "e.safetensors"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(
            loadError {
                $0.entries["layer2.0.weight_orig"] = .init(
                    shape: [32, 4, 3, 3], floats: [Float](repeating: 0, count: 1152))
            },
            "e.safetensors: tensor layer2.0.weight_orig: shape [32, 4, 3, 3], expected [32, 2, 3, 3]")
        XCTAssertEqual(
            loadError { $0.entries["fc_var.bias"] = nil },
            "e.safetensors: tensor fc_var.bias: missing from the checkpoint")
        XCTAssertEqual(
            loadError { $0.entries["layer6.0.weight_u"] = .init(shape: [1], floats: [1]) },
            "e.safetensors: tensor layer6.0.weight_u: not a tensor of this network")
        XCTAssertEqual(
            loadError {
                $0.entries["fc_mu.weight"] = .init(
                    dtype: .int64, shape: [64, 16, 3, 3], bytes: [UInt8](repeating: 0, count: 64 * 16 * 9 * 8))
            },
            "e.safetensors: tensor fc_mu.weight: dtype I64, expected F32")
        XCTAssertEqual(encoder.checkpointEntries, before, "a failed load changed the network")
        XCTAssertEqual(loadError { _ in }, "no error")
        XCTAssertEqual(encoder.muHead.bias?.data, [Float](repeating: 7, count: 64))
    }

    func testGeneratorCheckpointRoundTripsIncludingTheBatchCounter() throws {
        var random = RandomSource(seed: 4)
        let generator = try Generator(.tiny, using: &random)
        try generator.loadCheckpoint(from: fixtures.appendingPathComponent("tiny_G.safetensors"))
        let url = folder.appendingPathComponent("G.safetensors")
        try generator.saveCheckpoint(to: url)
        let original = try SafeTensors.read(from: fixtures.appendingPathComponent("tiny_G.safetensors"))
        let written = try SafeTensors.read(from: url)
        XCTAssertEqual(written.entries, original.entries, "bytes of every tensor survive load and save")
        XCTAssertEqual(
            written.entries["head_0.norm_0.param_free_norm.num_batches_tracked"]?.int64s, [37],
            "7 set by the script + 30 warm-up passes")
    }

    /// A checkpoint written by Swift loads into the PyTorch networks of make_reference.py, whose
    /// evaluation output matches Swift's. Skipped without torch and safetensors in python3.
    func testSwiftCheckpointLoadsIntoPyTorch() throws {
        var random = RandomSource(seed: 5)
        let model = try GroupDNetModel(.tiny, using: &random)
        try model.generator.loadCheckpoint(from: fixtures.appendingPathComponent("tiny_G.safetensors"))
        let reference = try SafeTensors.read(from: fixtures.appendingPathComponent("tiny_reference.safetensors"))
        let seg = try ModelInput.oneHot(
            labels: reference.entry("input.labels").bytes, batch: 2, height: 64, width: 64, classes: 8)
        // One training-mode step changes u, v and the running statistics, so the file differs
        // from the fixture; then perturb a weight so that the weights differ too.
        _ = try Tensor.withoutGradients {
            try model.generator(seg: seg, z: reference.tensor("input.eps_g"), training: true)
        }
        model.generator.fc.weight.data[0] += 0.5
        let checkpoint = folder.appendingPathComponent("swift_G.safetensors")
        let output = folder.appendingPathComponent("torch_out.safetensors")
        try model.generator.saveCheckpoint(to: checkpoint)
        let script = """
            import sys; sys.path.insert(0, sys.argv[1])
            import torch, torch.nn.functional as F
            from safetensors.torch import load_file, save_file
            import make_reference as r
            g = r.Generator(); g.load_state_dict(load_file(sys.argv[2]), strict=True); g.eval()
            ref = load_file(sys.argv[3])
            seg = F.one_hot(ref["input.labels"].long(), 8).permute(0, 3, 1, 2).float().contiguous()
            with torch.no_grad(): save_file({"fake": g(seg, ref["input.z"]).contiguous()}, sys.argv[4])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", script, fixtures.path, checkpoint.path,
            fixtures.appendingPathComponent("tiny_reference.safetensors").path, output.path
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus == 127 || process.terminationStatus != 0 && message.contains("ModuleNotFoundError")
        {
            throw XCTSkip("python3 with torch and safetensors is not available")
        }
        XCTAssertEqual(process.terminationStatus, 0, message)
        let torchFake = try SafeTensors.read(from: output).floats("fake")
        let swiftFake = try model.generate(seg: seg, z: reference.tensor("input.z"))
        assertClose(swiftFake.data, torchFake, .reference, "PyTorch eval output from the Swift checkpoint")
    }
}
