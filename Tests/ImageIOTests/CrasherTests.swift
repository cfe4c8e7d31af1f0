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
        for bytes in [
            try photo.encodedPNG(), try photo.encodedJPEG(quality: 80), try photo.encodedTIFF(compression: .lzw)
        ] {
            for index in 0..<min(bytes.count, 400) {
                var damaged = bytes
                damaged[index] ^= 0xA5
                _ = try? decodeImage(damaged, limits: DecodeLimits(maxPixels: 1_000_000))
                _ = try? decodeLabels(damaged, limits: DecodeLimits(maxPixels: 1_000_000))
            }
        }
    }

    /// Seeded random damage anywhere in the file (several bytes at once), including palette PNGs
    /// and tiled TIFFs: decode or throw, never crash.
    func testRandomDamageAnywhereNeverCrashes() throws {
        let photo = patternImage(width: 40, height: 33)
        let labels = LabelMap(width: 40, height: 33, values: photo.pixels.prefix(40 * 33).map { $0 % 20 })
        let palette: [(UInt8, UInt8, UInt8)] = (0..<20).map { (i: Int) -> (UInt8, UInt8, UInt8) in
            (UInt8(i), UInt8(255 - i), UInt8(i * 3))
        }
        let files = [
            try photo.encodedPNG(), try photo.encodedJPEG(quality: 85), try photo.encodedProgressiveJPEG(quality: 85),
            try photo.encodedTIFF(compression: .lzw, layout: .tiles(size: 16)),
            try photo.encodedTIFF(compression: .jpeg),
            try labels.encodedPNG(palette: palette), try labels.encodedTIFF(compression: .packBits)
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var decoded = 0, refused = 0
        for file in files {
            for _ in 0..<150 {
                var damaged = file
                for _ in 0..<(1 + next(4)) { damaged[next(damaged.count)] = UInt8(next(256)) }
                if next(4) == 0 { damaged.removeLast(next(damaged.count / 2)) }
                let limits = DecodeLimits(maxPixels: 4_000_000)
                if (try? decodeImage(damaged, limits: limits)) != nil { decoded += 1 } else { refused += 1 }
                _ = try? decodeLabels(damaged, limits: limits)
            }
        }
        XCTAssertEqual(decoded + refused, files.count * 150)
        XCTAssertGreaterThan(refused, 0, "some damage must be detected")
    }

    func testCatReferenceDecodesLikeGdkPixbuf() throws {
        let folder = try conformanceFolder("pixbuf")
        let cat = try Image(contentsOfFile: folder.appendingPathComponent("cat.jpg").path)
        let reference = try Image(contentsOfFile: folder.appendingPathComponent("cat.jpg.ref.png").path)
        XCTAssertEqual([cat.width, cat.height], [reference.width, reference.height])
        XCTAssertLessThan(difference(cat.pixels, reference.pixels).mean, 1.5)
    }
}
