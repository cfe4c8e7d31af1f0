import Applications
import CLibGIF
import Foundation
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

/// `smis generate --mix/--relabel/--edited-label`, `smis morph` and `smis grid`, run as built,
/// on a tiny checkpoint trained for one step on the bundled fixtures (as the README's demo
/// does). Each image is compared bit for bit with the library's on the same z (one thread in
/// both processes, so that the convolutions sum in the same order).
final class ApplicationsCommandLineTests: TemporaryFolderTestCase {
    private func smis(_ arguments: [String]) throws -> BuiltTool.Result {
        try BuiltTool.run("smis", arguments, environment: ["TENSOR_THREADS": "1"])
    }

    /// The prepared fixtures' photo and label map of `name`, and a one-step tiny run.
    private func tinyRun() throws -> URL {
        let prepared = folder.appendingPathComponent("prepared").path, shards = folder.appendingPathComponent("shards")
        let fixtures = TestPaths.fixtures.appendingPathComponent("deepfashion").path
        let steps: [(String, [String])] = [
            (
                "smisprep",
                [
                    "deepfashion", "--quiet", "--images", fixtures + "/img", "--labels", fixtures + "/labels",
                    "--out", prepared, "--partition", fixtures + "/list_eval_partition.txt"
                ]
            ),
            ("smisprep", ["shard", prepared, "--out", shards.path]),
            (
                "smis",
                [
                    "train", "--shards", shards.path, "--out", folder.appendingPathComponent("run").path,
                    "--preset", "tiny", "--resize", "--max-steps", "1", "--sample-count", "0"
                ]
            )
        ]
        for (tool, arguments) in steps {
            let result = try BuiltTool.run(tool, arguments, environment: ["TENSOR_THREADS": "1"])
            XCTAssertEqual(result.status, 0, "\(tool) \(arguments.first!): \(result.errors)")
        }
        TensorThreads.count = 1
        return folder.appendingPathComponent("run")
    }

    private func fixture(_ name: String) -> (photo: String, label: String) {
        let prepared = folder.appendingPathComponent("prepared")
        return (
            prepared.appendingPathComponent("train/\(name).jpg").path,
            prepared.appendingPathComponent("cihp_train_mask/\(name).png").path
        )
    }

    func testGenerateMixesAClassAndRegeneratesAnEditedMapWithTheSameZ() throws {
        let run = try tinyRun()
        let person = fixture("WOMEN-Pants-id_00000001-01_1_front")
        let donor = fixture("WOMEN-Jackets_Coats-id_00000003-01_1_front")
        let out = folder.appendingPathComponent("images")
        let result = try smis([
            "generate", "--checkpoint", run.path, "--labels", person.label, "--out", out.path, "--resize", "--seed",
            "3",
            "--mix", "top-clothes=\(donor.photo):\(donor.label)", "--relabel", "bottom-clothes=skin"
        ])
        XCTAssertEqual(result.status, 0, result.errors)
        let synthesizer = try ImageSynthesizer(checkpoint: run)
        var random = RandomSource(seed: 3)
        let z = synthesizer.randomLatent(using: &random)
        let style = try StyleExample(
            photo: Image(contentsOfFile: donor.photo),
            label: synthesizer.labelMap(contentsOfFile: donor.label, resize: true))
        let mixed = try synthesizer.mixing(z, classIndex: 3, style: style, using: &random)
        let label = try synthesizer.labelMap(contentsOfFile: person.label, resize: true)
        let stem = "WOMEN-Pants-id_00000001-01_1_front"
        func written(_ name: String) throws -> Image {
            try Image(contentsOfFile: out.appendingPathComponent(name).path)
        }
        XCTAssertEqual(try written("\(stem).png"), try synthesizer.image(label: label, z: mixed))
        let edited = try synthesizer.relabeled(label, [Relabeling(from: 4, to: 2)])
        XCTAssertNotEqual(edited, label, "the fixture shows bottom clothes")
        XCTAssertEqual(
            try LabelMap(contentsOfFile: out.appendingPathComponent("\(stem)-edited-label.png").path), edited)
        XCTAssertEqual(try written("\(stem)-edited.png"), try synthesizer.image(label: edited, z: mixed))

        // The edited PNG round: the written label map, given back as --edited-label, gives the same image.
        let again = try smis([
            "generate", "--checkpoint", run.path, "--labels", person.label, "--out",
            folder.appendingPathComponent("again").path,
            "--resize", "--seed", "3", "--mix", "top-clothes=\(donor.photo):\(donor.label)",
            "--edited-label", out.appendingPathComponent("\(stem)-edited-label.png").path
        ])
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertEqual(
            try Image(contentsOfFile: folder.appendingPathComponent("again/\(stem)-edited.png").path),
            try written("\(stem)-edited.png"))
        // A colour PNG is not a label map: refused with its name before any image is written.
        let colour = folder.appendingPathComponent("colour-edit.png")
        try Data(Image(width: 64, height: 64).encodedPNG()).write(to: colour)
        let refused = folder.appendingPathComponent("refused")
        let badEdit = try smis([
            "generate", "--checkpoint", run.path, "--labels", person.label, "--out", refused.path, "--resize",
            "--edited-label", colour.path
        ])
        XCTAssertEqual(badEdit.status, 1)
        XCTAssertTrue(badEdit.errors.contains("Error: \(colour.path): unsupported image"), badEdit.errors)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: refused.path), [])
        let badClass = try smis([
            "generate", "--checkpoint", run.path, "--labels", person.label, "--out", out.path, "--resize",
            "--mix", "hat=\(donor.photo):\(donor.label)"
        ])
        XCTAssertEqual(badClass.status, 1)
        XCTAssertTrue(
            badClass.errors.contains("Error: --mix: hat is not a class; the classes are hair"), badClass.errors)
        let missingPhoto = try smis([
            "generate", "--checkpoint", run.path, "--labels", person.label, "--out", out.path, "--resize",
            "--mix", "hair=/no/such.jpg:\(donor.label)"
        ])
        XCTAssertEqual(missingPhoto.status, 1)
        XCTAssertTrue(missingPhoto.errors.contains("/no/such.jpg"), missingPhoto.errors)
    }

    func testMorphWritesItsEndPointsFramesAndAGifAndGridASheet() throws {
        let run = try tinyRun()
        let person = fixture("WOMEN-Pants-id_00000001-02_3_back")
        let out = folder.appendingPathComponent("morph")
        let morph = try smis([
            "morph", "--checkpoint", run.path, "--label", person.label, "--resize", "--from", "5", "--to", "6",
            "--steps", "4", "--delay", "15", "--out", out.path
        ])
        XCTAssertEqual(morph.status, 0, morph.errors)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(names, ["frame-001.png", "frame-002.png", "frame-003.png", "frame-004.png", "morph.gif"])
        let synthesizer = try ImageSynthesizer(checkpoint: run)
        let label = try synthesizer.labelMap(contentsOfFile: person.label, resize: true)
        for (file, seed) in [("frame-001.png", UInt64(5)), ("frame-004.png", 6)] {
            var random = RandomSource(seed: seed)
            XCTAssertEqual(
                try Image(contentsOfFile: out.appendingPathComponent(file).path),
                try synthesizer.image(label: label, z: synthesizer.randomLatent(using: &random)), file)
        }
        var error: Int32 = 0
        let gif = try XCTUnwrap(DGifOpenFileName(out.appendingPathComponent("morph.gif").path, &error))
        defer { DGifCloseFile(gif, &error) }
        XCTAssertEqual(DGifSlurp(gif), GIF_OK)
        XCTAssertEqual([gif.pointee.ImageCount, gif.pointee.SWidth, gif.pointee.SHeight], [4, 64, 64])
        var control = GraphicsControlBlock()
        XCTAssertEqual(DGifSavedExtensionToGCB(gif, 3, &control), GIF_OK)
        XCTAssertEqual(control.DelayTime, 15)

        let sheet = folder.appendingPathComponent("sheets/sheet.png")
        let grid = try smis([
            "grid", "--checkpoint", run.path, "--label", person.label, "--resize", "--classes", "hair,top-clothes",
            "--samples", "3", "--out", sheet.path
        ])
        XCTAssertEqual(grid.status, 0, grid.errors)
        let image = try Image(contentsOfFile: sheet.path)
        // Caption: "top-clothes" at scale 1 plus two gaps; three 64-pixel cells and gaps per row.
        XCTAssertEqual([image.width, image.height], [73 + 3 * 68, 4 + 2 * 68])
        var random = RandomSource(seed: 0)
        let z = synthesizer.randomLatent(using: &random)
        let expected = try synthesizer.contactSheet(label: label, z: z, classes: [0, 3], samples: 3, using: &random)
        XCTAssertEqual(image, expected.image, "z and then the samples, from --seed's one stream")
        let bad = try smis([
            "morph", "--checkpoint", run.path, "--label", person.label, "--resize", "--from", "5", "--to", "6",
            "--classes", "hair,hair", "--out", out.path
        ])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.errors.contains("Error: --classes: hair,hair names a class twice"), bad.errors)
        let shorter = try smis([
            "morph", "--checkpoint", run.path, "--label", person.label, "--resize", "--from", "5", "--to", "6",
            "--steps", "2", "--out", out.path
        ])
        XCTAssertEqual(shorter.status, 0, shorter.errors)
        XCTAssertTrue(
            shorter.errors.contains("also holds 2 older frames (frame-003.png …), not part of this morph."),
            shorter.errors)
    }

    func testMalformedArgumentsAreUsageErrorsNamingTheOption() throws {
        for (arguments, message) in [
            (["generate", "--labels", "a.png", "--mix", "hair"], "--mix hair: expected CLASS=PHOTO:LABEL."),
            (
                ["generate", "--labels", "a.png", "--mix", "hair=photo.jpg"],
                "--mix hair=photo.jpg: expected CLASS=PHOTO:LABEL."
            ),
            (
                ["generate", "--labels", "a.png", "b.png", "--edited-label", "e.png"],
                "--edited-label edits one map: give exactly one --labels."
            ),
            (
                ["morph", "--label", "a.png", "--from", "1", "--to", "x", "--steps", "3"],
                "--to x: expected PHOTO:LABEL (a photo and its label map)."
            ),
            (
                ["morph", "--label", "a.png", "--from", "1", "--to", "2", "--steps", "1"],
                "--steps must be between 2 and 1000."
            ),
            (["grid", "--label", "a.png", "--samples", "0"], "--samples must be between 1 and 64.")
        ] {
            let result = try smis(arguments + ["--checkpoint", folder.path, "--out", folder.path])
            XCTAssertEqual(result.status, 64, "\(arguments)")
            XCTAssertTrue(result.errors.contains("Error: \(message)"), "\(arguments): \(result.errors)")
        }
    }
}
