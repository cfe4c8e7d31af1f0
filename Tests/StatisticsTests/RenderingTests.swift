import Foundation
import ImageIO
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import Statistics

/// The terminal table and the HTML page, compared as text on crafted statistics.
final class RenderingTests: XCTestCase {
    /// Maps A, B (with the same photo: a duplicate pair) and C (label only), source table
    /// {0 background, 1 hat, 2 hair}; value 5 is outside it.
    static func crafted() -> (DatasetStatistics, LabelSet) {
        var accumulator = StatisticsAccumulator(
            labelSet: LabelSet(source: "", classes: [0: "background", 1: "hat", 2: "hair"]))
        let photo = Image(width: 4, height: 3, pixels: Array(0..<36))
        accumulator.add(label: StatisticsAccumulatorTests.mapA, photo: photo, partition: "all", key: "a")
        accumulator.add(label: StatisticsAccumulatorTests.mapB, photo: photo, partition: "all", key: "b")
        accumulator.add(label: StatisticsAccumulatorTests.mapC, photo: nil, partition: "all", key: "c")
        return (accumulator.finish(), accumulator.labelSet)
    }

    func testTerminalTableRows() {
        let table = Self.crafted().0.terminalTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "Samples: 3   (all 3)")
        XCTAssertEqual(lines[1], "Label sizes: 4×3 ×2, 2×2 ×1")
        // 17/28 of the pixels is the widest bar (20 full blocks); 7/17 of 160 eighths is 66 → 8 blocks + ▎.
        XCTAssertTrue(
            lines.contains(
                " 0  background      60.71 %  ████████████████████       2   66.67 %  ██████▋        8.5          "
                + "8.5   0.88   1.00         █ █"))
        XCTAssertTrue(
            lines.contains(
                " 1  hat             25.00 %  ████████▎                  2   66.67 %  ██████▋        3.5          "
                + "3.5   0.75   0.83       █   █"))
        XCTAssertTrue(lines.contains("Label values outside the table: 5 (1 images, 1 pixels)"))
        XCTAssertTrue(lines.contains("0 background          67  33  67"))
        XCTAssertTrue(
            lines.contains("2 hair               2         0           0            0        2        2        2"))
        XCTAssertTrue(lines.contains("  mean R 16.500  G 17.500  B 18.500"))
        XCTAssertTrue(lines.contains("  std  R 10.356  G 10.356  B 10.356"))
        XCTAssertTrue(lines.contains("  a = b"))
    }

    func testBarsAndNumbers() {
        XCTAssertEqual(TextFormat.bar(1, width: 3), "███")
        XCTAssertEqual(TextFormat.bar(0.5, width: 3), "█▌")
        XCTAssertEqual(TextFormat.bar(1.0 / 24, width: 3), "▏")
        XCTAssertEqual(TextFormat.bar(0, width: 3), "")
        XCTAssertEqual(TextFormat.sparkline([0, 1, 8, 4]), " ▁█▄")
        XCTAssertEqual(TextFormat.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(TextFormat.grouped(-1_000), "-1,000")
        XCTAssertEqual(TextFormat.fixed(2.675, digits: 1), "2.7")
        XCTAssertEqual(TextFormat.fixed(0.05, digits: 2), "0.05")
        XCTAssertEqual(TextFormat.percent(0.001, digits: 1), "0.1 %")
        XCTAssertEqual(TextFormat.groupedFixed(131_363.75, digits: 1), "131,363.8")
        XCTAssertEqual(TextFormat.groupedFixed(-1_234.5, digits: 0), "-1,235")
        XCTAssertEqual(TextFormat.groupedFixed(8.5, digits: 1), "8.5")
    }

    func testHTMLPageHoldsEveryChartAsWellFormedSVG() throws {
        let (stats, table) = Self.crafted()
        let page = StatisticsReport.htmlPage(stats, labelSet: table, contactSheet: [])
        let charts = svgElements(in: page)
        let ids = charts.compactMap { svg -> String? in
            guard let range = svg.range(of: "id=\""), let end = svg[range.upperBound...].firstIndex(of: "\"") else {
                return nil
            }
            return String(svg[range.upperBound..<end])
        }
        XCTAssertEqual(
            ids,
            [
                "class-share", "class-presence", "cooccurrence", "photo-sizes", "box-width-0", "box-height-0",
                "box-width-1", "box-height-1", "box-width-2", "box-height-2"
            ])
        for svg in charts {
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "not well-formed: \(svg.prefix(80))")
        }
        // 3 × 3 heat-map cells, the diagonal darker than the rest (2 of 3 images vs 1 of 3).
        let heatMap = try XCTUnwrap(charts.first { $0.contains("id=\"cooccurrence\"") })
        XCTAssertEqual(heatMap.components(separatedBy: "class=\"cell\"").count - 1, 9)
        // Bar lengths: the largest share spans the 360-pixel plot, hat 7/17 of it.
        let share = try XCTUnwrap(charts.first { $0.contains("id=\"class-share\"") })
        XCTAssertTrue(share.contains("width=\"360\""))
        XCTAssertTrue(share.contains("width=\"148.24\""))
        XCTAssertTrue(page.contains("<th>&gt; 0.1 %</th>"))
        XCTAssertTrue(page.contains("<li>a = b</li>"))
    }

    func testHTMLEscapesNames() {
        var accumulator = StatisticsAccumulator(classNames: ["<b>&\"x\""])
        accumulator.add(label: LabelMap(width: 1, height: 1), photo: nil, partition: "train")
        let page = StatisticsReport.htmlPage(accumulator.finish(), labelSet: accumulator.labelSet, contactSheet: [])
        XCTAssertFalse(page.contains("<b>&"))
        XCTAssertTrue(page.contains("&lt;b&gt;&amp;&quot;x&quot;"))
    }

    func testVOCPaletteAndShiftedTargetColours() {
        XCTAssertEqual(LabelPalette.voc(0), RGB(red: 0, green: 0, blue: 0))
        XCTAssertEqual(LabelPalette.voc(1), RGB(red: 128, green: 0, blue: 0))
        XCTAssertEqual(LabelPalette.voc(2), RGB(red: 0, green: 128, blue: 0))
        XCTAssertEqual(LabelPalette.voc(15), RGB(red: 192, green: 128, blue: 128))
        let target = LabelSet(targetClasses: ["hair", "face", "background"])
        XCTAssertEqual(LabelPalette.colour(of: 0, in: target), RGB(red: 128, green: 0, blue: 0))
        XCTAssertEqual(LabelPalette.colour(of: 2, in: target), RGB(red: 0, green: 0, blue: 0))
    }

    func testClassSplitKeepsOnlyTheClassInsideItsBox() {
        // Map A: class 2 covers (1,1) and (2,1); its box is 2×1.
        let label = StatisticsAccumulatorTests.mapA
        let photo = Image(width: 4, height: 3, pixels: (0..<36).map { UInt8($0 + 1) })
        var regions: [LabelRegion] = []
        label.forEachRegion { regions.append($0) }
        let two = try! XCTUnwrap(regions.first { $0.value == 2 })
        let split = try! XCTUnwrap(Thumbnail.classSplit(photo: photo, label: label, region: two))
        XCTAssertEqual(split.width, 2)
        XCTAssertEqual(split.height, 1)
        XCTAssertEqual(split.pixels, [16, 17, 18, 19, 20, 21])
        // Class 1's box (2…3 × 0…1) holds (2,1), which is class 2: blacked out.
        let one = try! XCTUnwrap(regions.first { $0.value == 1 })
        let oneSplit = try! XCTUnwrap(Thumbnail.classSplit(photo: photo, label: label, region: one))
        XCTAssertEqual(oneSplit.pixels, [7, 8, 9, 10, 11, 12, 0, 0, 0, 22, 23, 24])
    }

    func testThumbnailsAverageAndKeepIds() {
        let photo = Image(
            width: 4, height: 2, pixels: [UInt8](repeating: 10, count: 12) + [UInt8](repeating: 30, count: 12))
        let small = Thumbnail.photo(photo, maxSide: 2)
        XCTAssertEqual(small.width, 2)
        XCTAssertEqual(small.height, 1)
        XCTAssertEqual(small.pixels, [20, 20, 20, 20, 20, 20])
        let palette = (0..<256).map { RGB(red: UInt8($0), green: 0, blue: 0) }
        let colourised = Thumbnail.colourised(
            LabelMap(width: 4, height: 2, values: [1, 1, 2, 2, 3, 3, 4, 4]), palette: palette, maxSide: 2)
        // Nearest neighbour samples pixel centres: (1, 1) and (3, 1).
        XCTAssertEqual(colourised.pixels, [3, 0, 0, 4, 0, 0])
    }
}

/// Every `<svg …>…</svg>` element of a page, in order.
func svgElements(in page: String) -> [String] {
    var result: [String] = []
    var rest = page[...]
    while let start = rest.range(of: "<svg "), let end = rest[start.lowerBound...].range(of: "</svg>") {
        result.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return result
}
