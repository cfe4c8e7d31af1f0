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
        "cihp-gt/0005008.png": (576, 313, .gray, [0: 72129, 1: 592, 2: 2103, 5: 12882, 7: 43073, 9: 29688, 10: 1419, 11: 3374, 12: 7163, 13: 5530, 14: 671, 15: 1005, 16: 251, 17: 177, 18: 231]),
        "cihp-gt/0012008.png": (500, 458, .gray, [0: 144729, 1: 2069, 2: 1438, 5: 41875, 8: 6903, 9: 6203, 10: 1034, 12: 14944, 13: 3577, 14: 268, 15: 899, 16: 1521, 17: 1645, 18: 1018, 19: 877]),
        "cihp-gt/0026375.png": (500, 498, .gray, [0: 186677, 2: 12834, 5: 22747, 13: 18975, 14: 1663, 15: 6104]),
        "cihp-gt/0032190.png": (500, 752, .gray, [0: 227417, 1: 5700, 2: 10497, 5: 26862, 6: 58085, 9: 31124, 10: 794, 13: 7991, 14: 2312, 15: 5218]),
        "schp-lip/demo.png": (2000, 1333, .palette, [0: 1768548, 2: 56008, 5: 16926, 7: 655872, 13: 76115, 14: 34375, 15: 58156]),
        "schp-multi/demo.png": (1200, 900, .palette, [0: 510830, 2: 19365, 5: 293763, 7: 31434, 9: 157668, 10: 13897, 13: 34676, 14: 9006, 15: 9361]),
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
