import Foundation
import XCTest
import ImageIO

/// TIFF variants from golang.org/x/image, checked against the PNG they were made from.
final class TIFFConformanceTests: XCTestCase {
    func testVariantsMatchTheirSourcePNG() throws {
        let folder = try conformanceFolder("tiff")
        func load(_ name: String) throws -> Image {
            try Image(contentsOfFile: folder.appendingPathComponent(name).path)
        }
        let video = try load("video-001.png")
        // (file, layout expectations, largest allowed mean difference to video-001.png)
        let cases: [(String, Double)] = [
            ("video-001.tiff", 0), ("video-001-uncompressed.tiff", 0), ("video-001-strip-64.tiff", 0),
            ("video-001-tile-64x64.tiff", 0), ("video-001-16bit.tiff", 0.01), ("video-001-paletted.tiff", 8)
        ]
        for (name, tolerance) in cases {
            let decoded = try load(name)
            let diff = difference(decoded.pixels, video.pixels)
            XCTAssertLessThanOrEqual(diff.mean, tolerance, "\(name): mean \(diff.mean), max \(diff.max)")
        }
        XCTAssertTrue(
            try ImageInfo(contentsOfFile: folder.appendingPathComponent("video-001-tile-64x64.tiff").path).isTiled)
        let bpp = try load("blue-purple-pink.lzwcompressed.tiff")
        XCTAssertEqual(bpp.pixels, try load("blue-purple-pink.png").pixels, "LZW")
        let gopher = try load("bw-gopher.png")
        for name in ["bw-uncompressed.tiff", "bw-packbits.tiff", "bw-deflate.tiff"] {
            XCTAssertEqual(try load(name).pixels, gopher.pixels, name)
        }
    }

    func testGrayTIFFDecodesAsPhotoAndLabelMap() throws {
        let folder = try conformanceFolder("tiff")
        let path = folder.appendingPathComponent("video-001-gray.tiff").path
        let info = try ImageInfo(contentsOfFile: path)
        XCTAssertEqual(info.colorModel, .gray)
        let photo = try Image(contentsOfFile: path)
        let labels = try LabelMap(contentsOfFile: path)
        XCTAssertEqual(stride(from: 0, to: photo.pixels.count, by: 3).map { photo.pixels[$0] }, labels.values)
        let paletted = folder.appendingPathComponent("video-001-paletted.tiff").path
        XCTAssertEqual(try ImageInfo(contentsOfFile: paletted).colorModel, .palette)
        XCTAssertNoThrow(try LabelMap(contentsOfFile: paletted))
        XCTAssertThrowsError(
            try LabelMap(contentsOfFile: folder.appendingPathComponent("video-001.tiff").path), "RGB is not a label map"
        )
        // 16-bit gray holding values above 255: a photo, never a label map.
        let wide = folder.appendingPathComponent("video-001-gray-16bit.tiff").path
        XCTAssertEqual(try ImageInfo(contentsOfFile: wide).bitsPerSample, 16)
        XCTAssertLessThan(difference(try Image(contentsOfFile: wide).pixels, photo.pixels).mean, 1)
        XCTAssertThrowsError(try LabelMap(contentsOfFile: wide)) { error in
            guard case .unsupported? = (error as? ImageIOError)?.reason else { return XCTFail("\(error)") }
        }
    }

    /// A small TIFF whose directory claims 60000×60000 is refused from the header alone.
    func testOversizedClaimIsRefusedBeforeDecoding() throws {
        var bytes = try LabelMap(width: 16, height: 16, filledWith: 3).encodedTIFF(compression: .none)
        XCTAssertEqual(Array(bytes.prefix(2)), [0x49, 0x49], "little-endian file")
        func read16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        let directory = read16(4) | read16(6) << 16
        for entry in 0..<read16(directory) {
            let at = directory + 2 + entry * 12
            guard [256, 257].contains(read16(at)) else { continue }  // ImageWidth, ImageLength
            let value = 60_000
            if read16(at + 2) == 3 {
                bytes[at + 8] = UInt8(value & 0xFF); bytes[at + 9] = UInt8(value >> 8 & 0xFF)
            } else {
                for k in 0..<4 { bytes[at + 8 + k] = UInt8(value >> (8 * k) & 0xFF) }
            }
        }
        XCTAssertEqual(try probe(bytes).pixelCount, 3_600_000_000)
        XCTAssertThrowsError(try decodeImage(bytes, source: "claim.tiff")) { error in
            let expected = ImageIOError(
                source: "claim.tiff", reason: .tooLarge(width: 60_000, height: 60_000, limit: 100_000_000))
            XCTAssertEqual(error as? ImageIOError, expected)
        }
        XCTAssertThrowsError(try decodeLabels(bytes, source: "claim.tiff"))
    }

    func testTruncatedTIFFThrows() throws {
        let folder = try conformanceFolder("tiff")
        let bytes = try fileBytes(folder.appendingPathComponent("video-001-strip-64.tiff"))
        // The first strip starts at byte 8 and the second at 17531; the directory follows them.
        for cut in [8, 100, 17531 / 2, 17531 + 100, 30566 + 20] {
            XCTAssertThrowsError(try decodeImage(Array(bytes.prefix(cut)), source: "cut at \(cut)"), "cut at \(cut)")
        }
    }
}
