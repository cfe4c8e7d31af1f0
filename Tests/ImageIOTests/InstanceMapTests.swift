import Foundation
import ImageIO
import XCTest
import _TestSupport

/// 16-bit instance maps (Cityscapes' `*_instanceIds.png`): written, read back, resized, and read
/// by another PNG reader.
final class InstanceMapTests: XCTestCase {
    /// Ids as Cityscapes writes them: stuff classes below 1000, cars 26000 + n, and the extremes.
    let map = InstanceMap(
        width: 7, height: 3,
        values: [
            0, 7, 7, 26000, 26000, 26001, 65535, 1, 7, 7, 26000, 24000, 24000, 255, 256, 256, 257, 11, 11, 33001, 0
        ])

    func testPNGRoundTripKeepsEverySixteenBitId() throws {
        for level in [0, 6, 9] {
            let bytes = try map.encodedPNG(compressionLevel: level)
            let info = try bytes.withUnsafeBytes { try ImageInfo(probing: $0, source: "map") }
            XCTAssertEqual(info.bitsPerSample, 16)
            XCTAssertEqual(info.colorModel, .gray)
            XCTAssertEqual(try bytes.withUnsafeBytes { try InstanceMap(decoding: $0, source: "map") }, map)
        }
    }

    /// PNG stores 16-bit samples big-endian: with compression level 0 the rows stand in the file
    /// as they are, each after its filter byte 0 (none).
    func testRowsAreStoredBigEndianUnfiltered() throws {
        let bytes = try map.encodedPNG(compressionLevel: 0)
        for row in 0..<map.height {
            var expected: [UInt8] = [0]
            for value in map.values[row * map.width..<(row + 1) * map.width] {
                expected += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            XCTAssertNotNil(find(expected, in: bytes), "row \(row) as big-endian samples after filter byte 0")
        }
    }

    func testEightBitGrayAndPaletteMapsAreWidened() throws {
        let label = LabelMap(width: 3, height: 2, values: [0, 5, 255, 7, 7, 1])
        for bytes in [try label.encodedPNG(), try label.encodedPNG(palette: Array(repeating: (1, 2, 3), count: 256))] {
            let widened = try bytes.withUnsafeBytes { try InstanceMap(decoding: $0, source: "gray8") }
            XCTAssertEqual(widened.values, [0, 5, 255, 7, 7, 1])
        }
    }

    func testColourAndJPEGFilesAreRefusedNamingTheFile() throws {
        let photo = Image(width: 4, height: 4, pixels: [UInt8](repeating: 90, count: 48))
        for bytes in [try photo.encodedPNG(), try photo.encodedJPEG()] {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try InstanceMap(decoding: $0, source: "inst.png") }) {
                XCTAssertTrue("\($0)".hasPrefix("inst.png: unsupported image"), "\($0)")
            }
        }
    }

    /// The decode into a caller's buffer refuses a file of another size before writing into it.
    func testDecodeIntoBufferChecksTheSize() throws {
        let bytes = try map.encodedPNG()
        var buffer = [UInt16](repeating: 9, count: 21)
        try buffer.withUnsafeMutableBufferPointer { ids in
            try bytes.withUnsafeBytes { try InstanceMap.decode($0, source: "m", into: ids, width: 7, height: 3) }
        }
        XCTAssertEqual(buffer, map.values)
        var wrong = [UInt16](repeating: 9, count: 21)
        XCTAssertThrowsError(
            try wrong.withUnsafeMutableBufferPointer { buffer in
                try bytes.withUnsafeBytes { try InstanceMap.decode($0, source: "m", into: buffer, width: 3, height: 7) }
            })
        XCTAssertEqual(wrong, [UInt16](repeating: 9, count: 21), "nothing written on a size mismatch")
    }

    /// Nearest resizing picks the same source pixels as a label map's (PIL's NEAREST), keeping
    /// ids above 255 intact.
    func testNearestResizePicksTheLabelMapsPixels() {
        let width = 23, height = 13
        let values = (0..<(width * height)).map { UInt16(($0 * 37) % 251) }
        let instances = InstanceMap(width: width, height: height, values: values.map { $0 * 257 })
        let label = LabelMap(width: width, height: height, values: values.map { UInt8($0) })
        for (toWidth, toHeight) in [(8, 5), (46, 26), (23, 4), (1, 1)] {
            let resized = instances.resized(width: toWidth, height: toHeight)
            let expected = label.resized(width: toWidth, height: toHeight).values.map { UInt16($0) * 257 }
            XCTAssertEqual(resized.values, expected, "\(toWidth)×\(toHeight)")
        }
        XCTAssertEqual(instances.resized(width: width, height: height), instances)
    }

    func testCropTakesTheRectangle() {
        let cropped = map.cropped(x: 2, y: 1, width: 3, height: 2)
        XCTAssertEqual(cropped.values, [7, 26000, 24000, 257, 11, 11])
    }

    /// Pillow reads our 16-bit file with the same ids (as the reference does with Cityscapes').
    func testPillowReadsTheSameIds() throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("instance.png").path
        try Data(map.encodedPNG()).write(to: URL(fileURLWithPath: path))
        let output = try Python.run(
            "import sys, numpy; from PIL import Image; image = Image.open(sys.argv[1]); "
                + "print(image.size, ' '.join(str(int(v)) for v in numpy.array(image).reshape(-1)))",
            arguments: [path], requiring: "PIL", package: "pillow")
        let expected = "(7, 3) " + map.values.map(String.init).joined(separator: " ")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), expected)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
