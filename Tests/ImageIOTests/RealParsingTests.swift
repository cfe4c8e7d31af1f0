import Foundation
import XCTest
import ImageIO
import _TestSupport

/// Real human-parser output in ../shared/data/real-parsing: palette PNGs from a LIP-trained
/// parser and grayscale CIHP ground truth. Histograms computed once with Python PIL + numpy
/// (`np.unique(np.array(Image.open(f)), return_counts=True)`).
final class RealParsingTests: XCTestCase {
    static let expected: [String: (width: Int, height: Int, model: ColorModel, histogram: [UInt8: Int])] = [
        "cihp-gt/0002190.png": (300, 200, .gray, [0: 25867, 2: 9045, 5: 20228, 10: 1546, 13: 1987, 15: 1327]),
        "cihp-gt/0005008.png": (
            576, 313, .gray,
            [
                0: 72129, 1: 592, 2: 2103, 5: 12882, 7: 43073, 9: 29688, 10: 1419, 11: 3374, 12: 7163, 13: 5530,
                14: 671, 15: 1005, 16: 251, 17: 177, 18: 231
            ]
        ),
        "cihp-gt/0012008.png": (
            500, 458, .gray,
            [
                0: 144729, 1: 2069, 2: 1438, 5: 41875, 8: 6903, 9: 6203, 10: 1034, 12: 14944, 13: 3577, 14: 268,
                15: 899, 16: 1521, 17: 1645, 18: 1018, 19: 877
            ]
        ),
        "cihp-gt/0026375.png": (500, 498, .gray, [0: 186677, 2: 12834, 5: 22747, 13: 18975, 14: 1663, 15: 6104]),
        "cihp-gt/0032190.png": (
            500, 752, .gray,
            [0: 227417, 1: 5700, 2: 10497, 5: 26862, 6: 58085, 9: 31124, 10: 794, 13: 7991, 14: 2312, 15: 5218]
        ),
        "schp-lip/demo.png": (
            2000, 1333, .palette, [0: 1768548, 2: 56008, 5: 16926, 7: 655872, 13: 76115, 14: 34375, 15: 58156]
        ),
        "schp-multi/demo.png": (
            1200, 900, .palette,
            [0: 510830, 2: 19365, 5: 293763, 7: 31434, 9: 157668, 10: 13897, 13: 34676, 14: 9006, 15: 9361]
        )
    ]

    func folder() throws -> URL {
        let folder = TestPaths.shared.appendingPathComponent("data/real-parsing")
        guard FileManager.default.fileExists(atPath: folder.path) else { throw XCTSkip("\(folder.path) is absent") }
        return folder
    }

    func testLabelMapsDecodeToTheirClassHistograms() throws {
        let folder = try folder()
        for (name, expected) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let path = folder.appendingPathComponent(name).path
            let info = try ImageInfo(contentsOfFile: path)
            XCTAssertEqual(info.colorModel, expected.model, name)
            let map = try LabelMap(contentsOfFile: path)
            XCTAssertEqual([map.width, map.height], [expected.width, expected.height], name)
            var histogram: [UInt8: Int] = [:]
            for value in map.values { histogram[value, default: 0] += 1 }
            XCTAssertEqual(histogram, expected.histogram, name)
            XCTAssertTrue(histogram.keys.allSatisfy { $0 <= 19 }, "\(name): LIP/CIHP ids are 0...19")
        }
    }

    /// FNV-1a hashes, computed with PIL 13 (numpy bytes), of: the decoded photo
    /// (`Image.open(jpg).convert("RGB")`), the photo resized to 256×256 with BICUBIC, and the label
    /// map resized to 256×256 with NEAREST, as the reference pipeline prepares them.
    static let pilHashes: [String: (decoded: UInt64, bicubic256: UInt64, labels256: UInt64)] = [
        "cihp-gt/0002190.jpg": (0xf979ece6800ef3df, 0xa780fee453f8725b, 0x4e5aa6a937a07d98),
        "cihp-gt/0005008.jpg": (0xb4a734d999e522da, 0x0327e1d41623eba9, 0x7cbb4681bcb48c04),
        "cihp-gt/0012008.jpg": (0x20b7cd354c914988, 0xeaabf0b131d0d7a8, 0x5ba3e553e993a1e4),
        "cihp-gt/0026375.jpg": (0x3b1f69dcfd43ab00, 0x5f6971e0d5ff6d7d, 0x39a3fe68233df6d5),
        "cihp-gt/0032190.jpg": (0x7efdeb28e778c4cd, 0x782ebc1904912244, 0x657729f98a92b2f1),
        "schp-lip/demo.jpg": (0x48ffd608f0784ba9, 0x7b0dccd4d246c078, 0x33b20e932bda158d),
        "schp-multi/demo.jpg": (0xf13c2672dc6264da, 0x0640b593f18cb27c, 0xf13b784b48639b9d)
    ]

    /// Decoding (libjpeg-turbo, as in PIL) and resizing reproduce PIL byte for byte, so data
    /// prepared here equals data the Python reference prepares.
    func testPhotosAndLabelsMatchPILByteForByte() throws {
        let folder = try folder()
        for (name, expected) in Self.pilHashes.sorted(by: { $0.key < $1.key }) {
            let photo = try Image(contentsOfFile: folder.appendingPathComponent(name).path)
            XCTAssertEqual(fnv1a(photo.pixels), expected.decoded, "\(name): decode")
            XCTAssertEqual(
                fnv1a(photo.resized(width: 256, height: 256).pixels), expected.bicubic256, "\(name): bicubic 256")
            let resizer = PhotoResizer(fromWidth: photo.width, fromHeight: photo.height, toWidth: 256, toHeight: 256)
            let streamed = try ImageFile.read(folder.appendingPathComponent(name).path).withUnsafeBytes {
                try resizer.resize(decoding: $0, source: name)
            }
            XCTAssertEqual(fnv1a(streamed.pixels), expected.bicubic256, "\(name): decoded and resized in one pass")
            let labels = try LabelMap(
                contentsOfFile: folder.appendingPathComponent(name.replacingOccurrences(of: ".jpg", with: ".png")).path)
            XCTAssertEqual(
                fnv1a(labels.resized(width: 256, height: 256).values), expected.labels256, "\(name): nearest 256")
        }
    }

    func testPhotosDecodeAtTheirLabelMapSize() throws {
        let folder = try folder()
        for (name, expected) in Self.expected {
            let photoPath = folder.appendingPathComponent(name.replacingOccurrences(of: ".png", with: ".jpg")).path
            let photo = try Image(contentsOfFile: photoPath)
            XCTAssertEqual([photo.width, photo.height], [expected.width, expected.height], photoPath)
            XCTAssertGreaterThan(Set(photo.pixels).count, 100, "a real photo has many distinct values")
        }
    }
}
