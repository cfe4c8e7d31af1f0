import XCTest
import ImageIO

/// Proves each system library is linked and runs: one tiny image per codec, encoded and decoded
/// in memory through libpng, libjpeg and libtiff.
final class LibraryLinkTests: XCTestCase {
    let photo = Image(width: 2, height: 2, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])

    func testLibPNGDecodesAFileItWrote() throws {
        let bytes = try photo.encodedPNG()
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(try decodeImage(bytes), photo)
    }

    func testLibPNGDecodesAHandBuiltFile() throws {
        // Built without libpng: a 2×1 gray file with values 7 and 200.
        let bytes = PNGBuilder.png(width: 2, height: 1, bitDepth: 8, colorType: 0, rows: [[7, 200]])
        XCTAssertEqual(try decodeLabels(bytes).values, [7, 200])
    }

    func testLibJPEGDecodesAFileItWrote() throws {
        let flat = Image(width: 8, height: 8, pixels: [UInt8](repeating: 128, count: 8 * 8 * 3))
        let bytes = try flat.encodedJPEG(quality: 90)
        XCTAssertEqual(Array(bytes.prefix(3)), [0xFF, 0xD8, 0xFF])
        let decoded = try decodeImage(bytes)
        XCTAssertLessThanOrEqual(difference(decoded.pixels, flat.pixels).max, 1)
    }

    func testLibTIFFDecodesAFileItWrote() throws {
        let bytes = try photo.encodedTIFF(compression: .none)
        XCTAssertEqual(try probe(bytes).format, .tiff)
        XCTAssertEqual(try decodeImage(bytes), photo)
    }
}
