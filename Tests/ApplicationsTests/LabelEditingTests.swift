import Applications
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

final class LabelEditingTests: XCTestCase {
    func testRelabelingChangesExactlyThePixelsOfEachFromClass() throws {
        let synthesizer = try TinyModel.synthesizer()
        let label = TinyModel.label()
        let changes = try ["top-clothes=skin", "1=3", "skin=background"].map { try synthesizer.relabeling(parsing: $0) }
        XCTAssertEqual(changes, [Relabeling(from: 3, to: 2), Relabeling(from: 1, to: 3), Relabeling(from: 2, to: 7)])
        let edited = try synthesizer.relabeled(label, changes)
        XCTAssertEqual(edited.width, label.width)
        let expected: [UInt8: UInt8] = [3: 2, 1: 3, 2: 7]
        for (before, after) in zip(label.values, edited.values) {
            XCTAssertEqual(after, expected[before] ?? before, "class \(before)")
        }
        XCTAssertEqual(try synthesizer.relabeled(label, []), label)
        // z is the caller's: the edited map with the same z is one more image(label:z:) call.
        var random = RandomSource(seed: 2)
        let z = synthesizer.randomLatent(using: &random)
        let before = try synthesizer.image(label: label, z: z), after = try synthesizer.image(label: edited, z: z)
        XCTAssertNotEqual(before.pixels, after.pixels)
    }

    func testRelabelingMistakesAreRefusedWithTheArgumentNamed() throws {
        let synthesizer = try TinyModel.synthesizer()
        for (text, message) in [
            ("hair", "--relabel: hair is not FROM=TO (two classes)"),
            ("hair=", "--relabel: hair= is not FROM=TO (two classes)"),
            ("a=b=c", "--relabel: a=b=c is not FROM=TO (two classes)"),
            ("hat=hair", "--relabel: hat is not a class; the classes are " + TinyModel.classes.joined(separator: ", ")),
            ("hair=8", "--relabel: 8 is not a class; the classes are " + TinyModel.classes.joined(separator: ", "))
        ] {
            XCTAssertThrowsError(try synthesizer.relabeling(parsing: text)) { XCTAssertEqual("\($0)", message) }
        }
        let twice = [Relabeling(from: 0, to: 1), Relabeling(from: 0, to: 2)]
        XCTAssertThrowsError(try synthesizer.relabeled(TinyModel.label(), twice)) { error in
            XCTAssertEqual("\(error)", "--relabel: class hair is relabelled twice")
        }
    }

    func testTheBrushPaintsADiscClippedToTheMap() throws {
        let synthesizer = try TinyModel.synthesizer()
        let blank = LabelMap(width: 64, height: 64, filledWith: 7)
        let disc = try synthesizer.painted(blank, classIndex: 3, x: 10, y: 20, radius: 2)
        // Radius 2: the 5 × 5 square minus its 4 corners and the 8 cells next to them, 13 pixels.
        XCTAssertEqual(disc.values.filter { $0 == 3 }.count, 13)
        XCTAssertEqual(disc.values[20 * 64 + 12], 3)
        XCTAssertEqual(disc.values[22 * 64 + 12], 7, "a corner is outside the disc")
        XCTAssertEqual(
            try synthesizer.painted(blank, classIndex: 1, x: 0, y: 0, radius: 0).values.filter { $0 == 1 }
                .count, 1)
        let corner = try synthesizer.painted(blank, classIndex: 1, x: 63, y: 63, radius: 3)
        XCTAssertEqual(corner.values.filter { $0 == 1 }.count, 11, "a quarter disc of radius 3 with its axes")
        XCTAssertThrowsError(try synthesizer.painted(blank, classIndex: 1, x: 64, y: 0, radius: 1)) { error in
            XCTAssertEqual("\(error)", "brush position: (64, 0) is outside the 64×64 map")
        }
        XCTAssertThrowsError(try synthesizer.painted(blank, classIndex: 1, x: 0, y: 0, radius: -1)) { error in
            XCTAssertEqual("\(error)", "brush radius: -1 is not in 0…64")
        }
        XCTAssertThrowsError(try synthesizer.painted(blank, classIndex: 8, x: 0, y: 0, radius: 1)) { error in
            XCTAssertEqual("\(error)", "brush class: class 8 is not in 0..<8")
        }
    }
}
