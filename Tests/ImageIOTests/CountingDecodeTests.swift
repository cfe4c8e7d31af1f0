import Foundation
import XCTest
import ImageIO

/// `LabelMap.decodeCountingValues` must return the map `LabelMap(decoding:)` returns, counts
/// that a plain count of that map gives, and the same errors, for every kind of label file:
/// the 8-bit PNG path counts rows inside the decoder, the others count after.
final class CountingDecodeTests: XCTestCase {
    private func assertCountsAgree(_ bytes: [UInt8], _ name: String, file: StaticString = #filePath, line: UInt = #line)
    {
        let plain: Result<LabelMap, Error> = Result { try decodeLabels(bytes, source: name) }
        let counted = Result { try bytes.withUnsafeBytes { try LabelMap.decodeCountingValues($0, source: name) } }
        switch (plain, counted) {
        case (.success(let map), .success(let result)):
            XCTAssertEqual(result.map, map, name, file: file, line: line)
            var expected = [Int](repeating: 0, count: 256)
            for value in map.values { expected[Int(value)] += 1 }
            XCTAssertEqual(result.valueCounts, expected, name, file: file, line: line)
        case (.failure(let plainError), .failure(let countedError)):
            XCTAssertEqual(
                String(describing: countedError), String(describing: plainError), name, file: file, line: line)
        default:
            XCTFail("\(name): decoding gave \(plain), counting gave \(counted)", file: file, line: line)
        }
    }

    /// Runs, noise, runs that end mid-word and rows that end mid-word, in palette and gray PNGs.
    func testRunsAndNoiseInEightBitPNGs() throws {
        var state: UInt32 = 5
        func next() -> UInt32 {
            state = state &* 1_103_515_245 &+ 12345
            return state >> 8
        }
        for (width, height) in [(37, 23), (8, 8), (1, 50), (750, 40)] {
            var runs: [UInt8] = [], noise: [UInt8] = []
            while runs.count < width * height {
                runs += [UInt8](repeating: UInt8(next() % 20), count: 1 + Int(next() % 40))
            }
            for _ in 0..<(width * height) { noise.append(UInt8(next() % 256)) }
            for values in [Array(runs.prefix(width * height)), noise, [UInt8](repeating: 7, count: width * height)] {
                let map = LabelMap(width: width, height: height, values: values)
                assertCountsAgree(try map.encodedPNG(), "gray \(width)×\(height)")
                let palette = (0..<256).map { (UInt8($0), UInt8(0), UInt8(255 - $0)) }
                assertCountsAgree(try map.encodedPNG(palette: palette), "palette \(width)×\(height)")
            }
        }
    }

    /// PngSuite (low depths, interlaced, 16-bit, colour files that are refused) and Go's broken
    /// PNGs (a palette index past the palette among them).
    func testConformanceFilesAgree() throws {
        for suite in ["pngsuite", "png-invalid", "png-interlaced"] {
            let folder = try conformanceFolder(suite)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }
                .sorted()
            XCTAssertFalse(names.isEmpty, suite)
            for name in names {
                assertCountsAgree(try fileBytes(folder.appendingPathComponent(name)), "\(suite)/\(name)")
            }
        }
    }

    func testSixteenBitTIFFAndJPEGAgree() throws {
        let map = LabelMap(width: 9, height: 4, values: (0..<36).map { UInt8($0 % 5) })
        assertCountsAgree(try map.encodedTIFF(), "tiff")
        assertCountsAgree(
            PNGBuilder.png(
                width: 3, height: 2, bitDepth: 16, colorType: 0, rows: [[0, 5, 0, 19, 0, 255], [0, 0, 0, 7, 0, 1]]),
            "16-bit")
        assertCountsAgree(try patternImage(width: 8, height: 8).encodedJPEG(), "jpeg")
        let png = try map.encodedPNG()
        assertCountsAgree(Array(png.prefix(png.count - 30)), "cut")
    }
}
