import Foundation
import XCTest
import ImageIO

/// gdk-pixbuf's regression files: crashers and lying headers must throw, randomly modified
/// files must either decode or throw — never crash, hang or allocate without bound.
final class CrasherTests: XCTestCase {
    func testKnownBadFilesThrow() throws {
        let folder = try conformanceFolder("pixbuf/fail")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { [".png", ".jpg", ".tif", ".tiff"].contains(where: $0.hasSuffix) }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 8, "\(names)")
        for name in names {
            let path = folder.appendingPathComponent(name).path
            XCTAssertThrowsError(try Image(contentsOfFile: path), name) { error in
                XCTAssertEqual((error as? ImageIOError)?.source, path, name)
            }
            XCTAssertThrowsError(try LabelMap(contentsOfFile: path), name)
        }
    }

    func testRandomlyModifiedFilesNeverCrash() throws {
        let folder = try conformanceFolder("pixbuf/randomly-modified")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let path = folder.appendingPathComponent(name).path
            do {
                let image = try Image(contentsOfFile: path)
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3, name)
            } catch let error as ImageIOError {
                XCTAssertEqual(error.source, path, name)
            }
        }
    }

    /// Every single-byte flip in the header area of each format either decodes or throws.
    func testByteFlipsInHeadersNeverCrash() throws {
        let photo = patternImage(width: 24, height: 16)
        for bytes in [try photo.encodedPNG(), try photo.encodedJPEG(quality: 80), try photo.encodedTIFF(compression: .lzw)] {
            for index in 0..<min(bytes.count, 400) {
                var damaged = bytes
                damaged[index] ^= 0xA5
                _ = try? decodeImage(damaged, limits: DecodeLimits(maxPixels: 1_000_000))
                _ = try? decodeLabels(damaged, limits: DecodeLimits(maxPixels: 1_000_000))
            }
        }
    }

    func testCatReferenceDecodesLikeGdkPixbuf() throws {
        let folder = try conformanceFolder("pixbuf")
        let cat = try Image(contentsOfFile: folder.appendingPathComponent("cat.jpg").path)
        let reference = try Image(contentsOfFile: folder.appendingPathComponent("cat.jpg.ref.png").path)
        XCTAssertEqual([cat.width, cat.height], [reference.width, reference.height])
        XCTAssertLessThan(difference(cat.pixels, reference.pixels).mean, 1.5)
    }
}
