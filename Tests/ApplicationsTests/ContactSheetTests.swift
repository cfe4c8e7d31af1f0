import Applications
import ImageIO
import Tensor
import Training
import XCTest
import _TestSupport

final class ContactSheetTests: XCTestCase {
    func testRowsAreClassesAndColumnsTheResamplesDrawnRowByRow() throws {
        let synthesizer = try TinyModel.synthesizer()
        let label = TinyModel.label()
        var random = RandomSource(seed: 21)
        let z = synthesizer.randomLatent(using: &random)
        var drawing = RandomSource(seed: 22)
        let sheet = try synthesizer.contactSheet(label: label, z: z, classes: [3, 0], samples: 3, using: &drawing)
        XCTAssertEqual(sheet.rowClasses, [3, 0])
        XCTAssertEqual(sheet.columns, 3)
        XCTAssertEqual([sheet.cellWidth, sheet.cellHeight, sheet.gap], [64, 64, 4])
        // "top-clothes" is 11 characters of 6 pixels less the last gap, plus a gap each side.
        XCTAssertEqual(sheet.captionWidth, 11 * 6 - 1 + 8)
        XCTAssertEqual(sheet.image.width, sheet.captionWidth + 3 * (64 + 4))
        XCTAssertEqual(sheet.image.height, 4 + 2 * (64 + 4))
        XCTAssertEqual(sheet.cellOrigin(row: 1, column: 2).x, sheet.captionWidth + 2 * 68)
        XCTAssertEqual(sheet.cellOrigin(row: 1, column: 2).y, 4 + 68)
        var replay = RandomSource(seed: 22)
        for (row, classIndex) in [3, 0].enumerated() {
            for column in 0..<3 {
                let code = try synthesizer.resampling(z, classIndex: classIndex, using: &replay)
                XCTAssertEqual(
                    sheet.cell(row: row, column: column).pixels, try synthesizer.image(label: label, z: code).pixels,
                    "row \(row) column \(column)")
            }
        }
        XCTAssertNotEqual(sheet.cell(row: 0, column: 0).pixels, sheet.cell(row: 0, column: 1).pixels)
    }

    func testCaptionsAreDrawnInTheNameColumnAndGapsStayWhite() throws {
        let red = Image(
            width: 8, height: 20,
            pixels: [UInt8](repeating: 0, count: 8 * 20 * 3).enumerated().map {
                $0.offset % 3 == 0 ? 200 : 0
            })
        let sheet = try ContactSheet(cells: [[red, red], [red, red]], rowNames: ["ab", "-"], rowClasses: [1, 2])
        XCTAssertEqual(sheet.captionWidth, 11 + 8)
        XCTAssertEqual(sheet.image.width, 19 + 2 * 12)
        XCTAssertEqual(sheet.image.height, 4 + 2 * 24)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] {
            Array(sheet.image.pixels[(y * sheet.image.width + x) * 3..<(y * sheet.image.width + x) * 3 + 3])
        }
        // Row 0's text starts at (gap, top + (20 − 7) / 2): "A"'s first row is " ### ".
        let top = 4 + 6
        XCTAssertEqual(pixel(4, top), [255, 255, 255])
        XCTAssertEqual(pixel(5, top), [32, 32, 32])
        // "-" is one bar in its glyph's fourth row, in row 1.
        let dashRow = 4 + 24 + 6 + 3
        XCTAssertEqual((4..<9).map { pixel($0, dashRow) }, Array(repeating: [32, 32, 32], count: 5))
        XCTAssertEqual(pixel(4, dashRow - 1), [255, 255, 255])
        XCTAssertEqual(pixel(sheet.captionWidth + 8, 10), [255, 255, 255], "gap between columns")
        XCTAssertEqual(pixel(sheet.captionWidth + 3, 10), [200, 0, 0])
        XCTAssertEqual(sheet.cell(row: 1, column: 1), red)
        XCTAssertThrowsError(try ContactSheet(cells: [[red], [red, red]], rowNames: ["a", "b"], rowClasses: [0, 1]))
        XCTAssertThrowsError(try ContactSheet(cells: [[red]], rowNames: [], rowClasses: [0]))
    }

    func testBadSheetRequestsAreRefused() throws {
        let synthesizer = try TinyModel.synthesizer()
        var random = RandomSource(seed: 1)
        let z = synthesizer.randomLatent(using: &random)
        XCTAssertThrowsError(
            try synthesizer.contactSheet(label: TinyModel.label(), z: z, classes: [], samples: 2, using: &random))
        XCTAssertThrowsError(
            try synthesizer.contactSheet(label: TinyModel.label(), z: z, classes: [1], samples: 0, using: &random))
        XCTAssertThrowsError(
            try synthesizer.contactSheet(label: TinyModel.label(), z: z, classes: [8], samples: 1, using: &random)
        ) { XCTAssertEqual("\($0)", "classes: class 8 is not in 0..<8") }
    }
}
