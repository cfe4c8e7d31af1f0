import Foundation
import XCTest
import ImageIO

/// PngSuite (Willem van Schaik's PNG conformance suite, as shipped in Go's source tree with a
/// `.sng` text dump of every valid file) and PNG files that must be refused.
final class PNGSuiteTests: XCTestCase {
    /// Every valid file decodes to the pixels its `.sng` dump lists: RGB for photos, and for
    /// palette and low-depth gray files the raw indices/values for label maps.
    func testValidFilesMatchTheirSNGDumps() throws {
        let folder = try conformanceFolder("pngsuite")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }
            .sorted()
        XCTAssertGreaterThanOrEqual(names.count, 35)
        var checkedInterlaced = false
        for name in names {
            let bytes = try fileBytes(folder.appendingPathComponent(name))
            let sngURL = folder.appendingPathComponent(name.replacingOccurrences(of: ".png", with: ".sng"))
            let reference = try SNGReference(text: String(contentsOf: sngURL, encoding: .utf8))
            let info = try probe(bytes)
            XCTAssertEqual([info.width, info.height], [reference.width, reference.height], name)
            checkedInterlaced = checkedInterlaced || info.isInterlaced

            let photo = try decodeImage(bytes, source: name)
            XCTAssertEqual(photo.pixels, reference.rgb, "\(name): RGB differs from the .sng dump")

            switch info.colorModel {
            case .palette:
                XCTAssertEqual(try decodeLabels(bytes, source: name).values, reference.indices, "\(name): indices")
                XCTAssertEqual(info.palette?.count, reference.palette.count, name)
            case .gray where info.bitsPerSample <= 8:
                // The dump scales low depths to 8 bits; a label map keeps the raw value.
                let scale = 255 / ((1 << info.bitsPerSample) - 1)
                let expected = stride(from: 0, to: reference.rgb.count, by: 3).map { reference.rgb[$0] / UInt8(scale) }
                XCTAssertEqual(try decodeLabels(bytes, source: name).values, expected, "\(name): raw gray")
            case .gray, .grayAlpha:
                // 16-bit gray holds values above 255 in these files: not class ids.
                if info.bitsPerSample == 16 {
                    XCTAssertThrowsError(try decodeLabels(bytes, source: name), name)
                }
            default:
                XCTAssertThrowsError(try decodeLabels(bytes, source: name), "\(name): colour is not a label map") {
                    error in
                    guard case .unsupported? = (error as? ImageIOError)?.reason else {
                        return XCTFail("\(name): \(error)")
                    }
                }
            }
        }
        XCTAssertTrue(checkedInterlaced, "the suite includes an interlaced file")
    }

    /// PngSuite's `x*` corrupt files, rebuilt from valid ones by the mutation each is defined
    /// by (the Debian copy of the suite ships only the valid files). Each must throw.
    func testCorruptVariantsThrow() throws {
        let folder = try conformanceFolder("pngsuite")
        let g01 = try fileBytes(folder.appendingPathComponent("basn0g01.png"))
        let g04 = try fileBytes(folder.appendingPathComponent("basn0g04.png"))
        let g08 = try fileBytes(folder.appendingPathComponent("basn0g08.png"))
        let c08 = try fileBytes(folder.appendingPathComponent("basn2c08.png"))
        func patched(_ file: [UInt8], _ index: Int, _ value: UInt8) -> [UInt8] {
            var out = file
            out[index] = value
            return out
        }
        func ihdr(_ file: [UInt8], depth: UInt8? = nil, colour: UInt8? = nil) -> [UInt8] {
            var data = PNGBuilder.chunks(file)[0].data
            if let depth { data[8] = depth }
            if let colour { data[9] = colour }
            return PNGBuilder.replacing("IHDR", in: file, with: data)
        }
        func crlf(_ file: [UInt8], from: [UInt8], to: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            var i = 0
            while i < file.count {
                if Array(file[i..<min(i + from.count, file.count)]) == from {
                    out += to; i += from.count
                } else {
                    out.append(file[i]); i += 1
                }
            }
            return out
        }
        var idatBad = g01
        let idat = PNGBuilder.chunks(g01).first { $0.type == "IDAT" }!
        idatBad[idat.offset + 8 + idat.data.count] ^= 0xFF
        let variants: [(String, [UInt8])] = [
            ("xs1n0g01 signature byte 1 MSB reset", patched(g01, 0, 0x09)),
            ("xs2n0g01 signature byte 2 is Q", patched(g01, 1, UInt8(ascii: "Q"))),
            ("xs4n0g01 signature byte 4 lowercase", patched(g01, 3, UInt8(ascii: "g"))),
            ("xs7n0g01 signature byte 7 is a space", patched(g01, 6, 0x20)),
            ("xcrn0g04 added CR bytes", crlf(g04, from: [0x0A], to: [0x0D, 0x0A])),
            ("xlfn0g04 added LF bytes", crlf(g04, from: [0x0D], to: [0x0D, 0x0A])),
            ("xhdn0g08 IHDR checksum", patched(g08, 8 + 8 + 13, g08[8 + 8 + 13] ^ 0x55)),
            ("xc1n0g08 colour type 1", ihdr(g08, colour: 1)),
            ("xc9n2c08 colour type 9", ihdr(c08, colour: 9)),
            ("xd0n2c08 bit depth 0", ihdr(c08, depth: 0)),
            ("xd3n2c08 bit depth 3", ihdr(c08, depth: 3)),
            ("xd9n2c08 bit depth 99", ihdr(c08, depth: 99)),
            ("xdtn0g01 missing IDAT", PNGBuilder.removing("IDAT", from: g01)),
            ("xcsn0g01 IDAT checksum", idatBad)
        ]
        for (name, bytes) in variants {
            XCTAssertNotEqual(bytes, g01, name)
            XCTAssertThrowsError(try decodeImage(bytes, source: name), name)
            XCTAssertThrowsError(try decodeLabels(bytes, source: name), name)
        }
    }

    /// Go's broken PNGs: bad CRC, no IEND, truncated, bad zlib data, palette index out of range.
    func testGoInvalidFilesThrowWithAMessage() throws {
        let folder = try conformanceFolder("png-invalid")
        for name in [
            "invalid-crc32.png", "invalid-noend.png", "invalid-trunc.png", "invalid-zlib.png", "invalid-palette.png"
        ] {
            let bytes = try fileBytes(folder.appendingPathComponent(name))
            XCTAssertThrowsError(try decodeImage(bytes, source: name), name) { error in
                guard let error = error as? ImageIOError, case .corrupt(let message) = error.reason else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(error.source, name)
                XCTAssertFalse(message.isEmpty, name)
            }
        }
    }

    /// Adam7-interlaced files decode to the same pixels as their non-interlaced twins.
    func testInterlacedFilesEqualTheirTwins() throws {
        let folder = try conformanceFolder("png-interlaced")
        for (plain, interlaced) in [
            ("gray-gradient.png", "gray-gradient.interlaced.png"), ("benchRGB.png", "benchRGB-interlace.png")
        ] {
            let a = try fileBytes(folder.appendingPathComponent(plain))
            let b = try fileBytes(folder.appendingPathComponent(interlaced))
            XCTAssertFalse(try probe(a).isInterlaced, plain)
            XCTAssertTrue(try probe(b).isInterlaced, interlaced)
            XCTAssertEqual(try decodeImage(a, source: plain), try decodeImage(b, source: interlaced), interlaced)
        }
        // As a label map the interlaced low-depth file keeps raw values: gray / (255 / (2^depth - 1)).
        let gray = try fileBytes(folder.appendingPathComponent("gray-gradient.interlaced.png"))
        let scale = UInt8(255 / ((1 << (try probe(gray).bitsPerSample)) - 1))
        let photo = try decodeImage(gray)
        XCTAssertEqual(
            try decodeLabels(gray).values.map { $0 * scale },
            stride(from: 0, to: photo.pixels.count, by: 3).map { photo.pixels[$0] })
    }

    func testSixteenBitGrayLabelsBelow256AreKept() throws {
        let rows: [[UInt8]] = [[0, 5, 0, 19, 0, 255], [0, 0, 0, 7, 0, 1]]
        let bytes = PNGBuilder.png(width: 3, height: 2, bitDepth: 16, colorType: 0, rows: rows)
        XCTAssertEqual(try probe(bytes).bitsPerSample, 16)
        XCTAssertEqual(try decodeLabels(bytes).values, [5, 19, 255, 0, 7, 1])
        let large = PNGBuilder.png(width: 1, height: 1, bitDepth: 16, colorType: 0, rows: [[1, 44]])
        XCTAssertThrowsError(try decodeLabels(large, source: "big.png")) { error in
            guard case .unsupported(let message)? = (error as? ImageIOError)?.reason else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("300"), message)
        }
    }

    /// A 60-byte PNG claiming 100000×100000 is refused from its header, before any allocation.
    func testOversizedClaimIsRefusedBeforeDecoding() throws {
        let claim = PNGBuilder.png(width: 100_000, height: 100_000, bitDepth: 8, colorType: 2, rows: [[0, 0, 0]])
        XCTAssertThrowsError(try decodeImage(claim, source: "claim.png")) { error in
            let expected = ImageIOError(
                source: "claim.png", reason: .tooLarge(width: 100_000, height: 100_000, limit: 100_000_000))
            XCTAssertEqual(error as? ImageIOError, expected)
        }
        XCTAssertThrowsError(try decodeLabels(claim, source: "claim.png"))
        // Wider than libpng's own 1,000,000-pixel row limit: still reported as too large.
        let wide = PNGBuilder.png(width: 3_000_000, height: 1_000, bitDepth: 8, colorType: 0, rows: [[0]])
        XCTAssertThrowsError(try decodeLabels(wide, source: "wide.png")) { error in
            XCTAssertEqual(
                error as? ImageIOError,
                ImageIOError(
                    source: "wide.png",
                    reason: .tooLarge(
                        width: 3_000_000, height: 1_000, limit: 100_000_000)))
        }
        let small = try patternImage(width: 20, height: 10).encodedPNG()
        XCTAssertThrowsError(try decodeImage(small, source: "s.png", limits: DecodeLimits(maxPixels: 199))) { error in
            XCTAssertEqual(
                error as? ImageIOError,
                ImageIOError(source: "s.png", reason: .tooLarge(width: 20, height: 10, limit: 199)))
        }
        XCTAssertNoThrow(try decodeImage(small, limits: DecodeLimits(maxPixels: 200)))
    }

    func testTruncatedPNGAtEveryTenthByteThrows() throws {
        let bytes = try patternImage(width: 30, height: 20).encodedPNG()
        for cut in stride(from: 0, to: bytes.count - 1, by: 10) {
            XCTAssertThrowsError(try decodeImage(Array(bytes.prefix(cut)), source: "cut at \(cut)"), "cut at \(cut)")
        }
    }
}
