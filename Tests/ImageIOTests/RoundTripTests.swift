import AtomicFiles
import Foundation
import XCTest
import _TestSupport
import ImageIO

/// Every encodable kind written and read back.
final class RoundTripTests: XCTestCase {
    let photo = patternImage(width: 37, height: 23)
    let labels = LabelMap(
        width: 19, height: 11, values: (0..<(19 * 11)).map { (i: Int) -> UInt8 in UInt8((i * 7 + i / 19) % 20) })
    let palette: [(UInt8, UInt8, UInt8)] = (0..<20).map { (i: Int) -> (UInt8, UInt8, UInt8) in
        (UInt8(i * 12), UInt8(255 - i * 9), UInt8(i * 5))
    }

    /// A smooth ramp (JPEG-friendly) of the given size.
    func ramp(_ width: Int, _ height: Int, step: Int) -> Image {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<pixels.count {
            let x = i / 3 % width
            pixels[i] = UInt8((x * step + (i % 3) * 30) % 256)
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    func rgb(_ colour: (UInt8, UInt8, UInt8)) -> [UInt8] { [colour.0, colour.1, colour.2] }

    func testRGBPNGIsExactAtEveryCompressionLevel() throws {
        var sizes: [Int] = []
        for level in [0, 1, 6, 9] {
            let bytes = try photo.encodedPNG(compressionLevel: level)
            XCTAssertEqual(try decodeImage(bytes), photo, "level \(level)")
            let info = try probe(bytes)
            XCTAssertEqual(info.colorModel, .rgb)
            XCTAssertEqual(info.bitsPerSample, 8)
            sizes.append(bytes.count)
        }
        XCTAssertGreaterThan(sizes[0], sizes[3], "level 0 stores, level 9 compresses")
    }

    func testGrayLabelPNGKeepsValues() throws {
        let bytes = try labels.encodedPNG()
        XCTAssertEqual(try probe(bytes).colorModel, .gray)
        XCTAssertEqual(try decodeLabels(bytes), labels)
        // As a photo, gray is replicated into three channels.
        let photo = try decodeImage(bytes)
        XCTAssertEqual(photo.pixels.count, labels.values.count * 3)
        XCTAssertEqual(Array(photo.pixels[9..<12]), [labels.values[3], labels.values[3], labels.values[3]])
    }

    /// Every row filter decodes to the same values, and the choice reaches libpng: the files
    /// differ, and an unfiltered file's rows all carry filter byte 0.
    func testLabelPNGRowFiltersKeepValues() throws {
        var files: [PNGRowFilter: [UInt8]] = [:]
        for filter in [PNGRowFilter.adaptive, .none, .sub, .up] {
            let bytes = try labels.encodedPNG(compressionLevel: 0, rowFilter: filter)
            XCTAssertEqual(try decodeLabels(bytes), labels, "\(filter)")
            files[filter] = bytes
        }
        XCTAssertEqual(Set(files.values).count, 4, "each filter writes different bytes")
        // Level 0 stores the filtered rows verbatim: 1 filter byte + 19 values per row, after
        // the zlib header and a stored block's 5-byte header.
        let unfiltered = files[.none]!
        let data = unfiltered.firstRange(of: Array("IDAT".utf8))!.upperBound + 2 + 5
        for row in 0..<labels.height {
            XCTAssertEqual(unfiltered[data + row * 20], 0, "filter byte of row \(row)")
            XCTAssertEqual(
                Array(unfiltered[(data + row * 20 + 1)..<(data + row * 20 + 20)]),
                Array(labels.values[(row * 19)..<(row * 19 + 19)]))
        }
    }

    func testPaletteLabelPNGKeepsIndicesAndPalette() throws {
        let bytes = try labels.encodedPNG(palette: palette, compressionLevel: 9)
        let info = try probe(bytes)
        XCTAssertEqual(info.colorModel, .palette)
        XCTAssertEqual(info.palette?.count, 20)
        XCTAssertEqual(info.palette?[3], RGBColor(36, 228, 15))
        XCTAssertEqual(try decodeLabels(bytes), labels, "indices come back untouched, not colours")
        let colours = try decodeImage(bytes)
        let id = Int(labels.values[5])
        XCTAssertEqual(Array(colours.pixels[15..<18]), rgb(palette[id]))
    }

    func testPaletteTooSmallForAValueIsRefused() {
        XCTAssertThrowsError(try labels.encodedPNG(palette: Array(palette.prefix(5)))) { error in
            guard case .encodeFailed(let message)? = (error as? ImageIOError)?.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(message.contains("no colour"), message)
        }
    }

    func testJPEGQualityControlsErrorAndSize() throws {
        let smooth = ramp(64, 48, step: 3)
        let high = try smooth.encodedJPEG(quality: 95)
        let low = try smooth.encodedJPEG(quality: 20)
        XCTAssertGreaterThan(high.count, low.count)
        let highError = difference(try decodeImage(high).pixels, smooth.pixels).mean
        let lowError = difference(try decodeImage(low).pixels, smooth.pixels).mean
        XCTAssertLessThan(highError, 2.0)
        XCTAssertLessThan(highError, lowError)
        XCTAssertFalse(try probe(high).isInterlaced)
    }

    func testProgressiveJPEGDecodesLikeBaseline() throws {
        let progressive = try photo.encodedProgressiveJPEG(quality: 90)
        XCTAssertTrue(try probe(progressive).isInterlaced)
        let baseline = try photo.encodedJPEG(quality: 90)
        XCTAssertEqual(try decodeImage(progressive), try decodeImage(baseline), "same coefficients, same pixels")
    }

    func testGrayJPEGDecodesToReplicatedRGB() throws {
        let bytes = try labels.encodedGrayJPEG(quality: 100)
        XCTAssertEqual(try probe(bytes).colorModel, .gray)
        let decoded = try decodeImage(bytes)
        for i in stride(from: 0, to: decoded.pixels.count, by: 3) {
            XCTAssertEqual(decoded.pixels[i], decoded.pixels[i + 1])
            XCTAssertEqual(decoded.pixels[i], decoded.pixels[i + 2])
        }
        XCTAssertThrowsError(try decodeLabels(bytes), "a JPEG is never a label map")
    }

    func testTIFFEveryLosslessCompressionAndLayout() throws {
        let colours: [RGBColor] = palette.map { RGBColor($0.0, $0.1, $0.2) }
        for compression in [TIFFCompression.none, .lzw, .deflate, .packBits] {
            for layout: TIFFLayout in [.strips(rowsPerStrip: 5), .tiles(size: 16)] {
                let name = "\(compression) \(layout)"
                let rgbFile = try photo.encodedTIFF(compression: compression, layout: layout)
                let info = try probe(rgbFile)
                XCTAssertEqual(info.tiffCompression, compression.rawValue, name)
                XCTAssertEqual(info.isTiled, layout != .strips(rowsPerStrip: 5), name)
                XCTAssertEqual(try decodeImage(rgbFile), photo, name)

                let gray = try labels.encodedTIFF(compression: compression, layout: layout)
                XCTAssertEqual(try decodeLabels(gray), labels, name)

                let indexed = try labels.encodedTIFF(palette: colours, compression: compression, layout: layout)
                XCTAssertEqual(try probe(indexed).colorModel, .palette, name)
                XCTAssertEqual(try decodeLabels(indexed), labels, "indices, not colours: \(name)")
                let id = Int(labels.values[7])
                XCTAssertEqual(Array(try decodeImage(indexed).pixels[21..<24]), rgb(palette[id]), name)
            }
        }
    }

    func testJPEGCompressedTIFFIsClose() throws {
        for layout: TIFFLayout in [.strips(rowsPerStrip: 16), .tiles(size: 16)] {
            let smooth = ramp(40, 33, step: 5)
            let bytes = try smooth.encodedTIFF(compression: .jpeg, layout: layout)
            XCTAssertEqual(try probe(bytes).tiffCompression, 7)
            XCTAssertLessThan(difference(try decodeImage(bytes).pixels, smooth.pixels).mean, 3, "\(layout)")
        }
    }

    func testDecodeIntoCallerBufferAndSizeMismatch() throws {
        let bytes = try photo.encodedPNG()
        var buffer = [UInt8](repeating: 0, count: photo.pixels.count)
        try buffer.withUnsafeMutableBufferPointer { out in
            try bytes.withUnsafeBytes {
                try Image.decode($0, source: "slot 3", into: out, width: photo.width, height: photo.height)
            }
        }
        XCTAssertEqual(buffer, photo.pixels)
        var wrong = [UInt8](repeating: 0, count: 10 * 10 * 3)
        XCTAssertThrowsError(
            try wrong.withUnsafeMutableBufferPointer { out in
                try bytes.withUnsafeBytes { try Image.decode($0, source: "slot 3", into: out, width: 10, height: 10) }
            }
        ) { error in
            XCTAssertEqual(
                error as? ImageIOError,
                ImageIOError(
                    source: "slot 3",
                    reason: .sizeMismatch(
                        expectedWidth: 10, expectedHeight: 10, width: 37, height: 23)))
        }
        var values = [UInt8](repeating: 0, count: labels.values.count)
        let labelBytes = try labels.encodedPNG(palette: palette)
        try values.withUnsafeMutableBufferPointer { out in
            try labelBytes.withUnsafeBytes {
                try LabelMap.decode($0, source: "slot 3", into: out, width: labels.width, height: labels.height)
            }
        }
        XCTAssertEqual(values, labels.values)
    }

    func testAtomicWriteLeavesOnlyTheFinalFile() throws {
        let folder = try temporaryFolder("imageio")
        let jpeg = folder.appendingPathComponent("a.jpg").path
        let png = folder.appendingPathComponent("a.png").path
        try photo.writeJPEG(toFile: jpeg, quality: 95)
        try labels.writePNG(toFile: png, palette: palette)
        try labels.writePNG(toFile: png)  // replaces the palette file
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["a.jpg", "a.png"])
        XCTAssertEqual(try LabelMap(contentsOfFile: png), labels)
        XCTAssertEqual(try ImageInfo(contentsOfFile: png).colorModel, .gray)
        XCTAssertEqual(try Image(contentsOfFile: jpeg).width, photo.width)
        // Writing into a missing folder fails with the path, and leaves nothing behind.
        let missing = folder.appendingPathComponent("no/such/b.png").path
        XCTAssertThrowsError(try labels.writePNG(toFile: missing)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.path, missing)
        }
    }

    func testMissingFileIsUnreadableWithItsPath() {
        XCTAssertThrowsError(try Image(contentsOfFile: "/nonexistent/x.jpg")) { error in
            guard let error = error as? ImageIOError, case .unreadable(let message) = error.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(error.source, "/nonexistent/x.jpg")
            XCTAssertTrue(message.contains("No such file"), message)
        }
    }

    func testUnknownBytesAreUnknownFormat() {
        XCTAssertThrowsError(try decodeImage(Array("GIF89a....".utf8), source: "x.gif")) { error in
            XCTAssertEqual(error as? ImageIOError, ImageIOError(source: "x.gif", reason: .unknownFormat))
        }
    }
}
