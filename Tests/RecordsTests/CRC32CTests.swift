import SeededRandom
import Records
import XCTest
import _TestSupport

final class CRC32CTests: XCTestCase {
    func testCheckValueOnBothPaths() {
        let digits = Array("123456789".utf8)
        XCTAssertEqual(CRC32C.checksum(digits), 0xE306_9283)
        digits.withUnsafeBytes { XCTAssertEqual(CRC32C.softwareChecksum($0), 0xE306_9283) }
    }

    func testEmptyBufferIsZero() {
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    /// Lengths around the 8-byte words and the 3 × 256 B and 3 × 8 KiB lane blocks of the hardware path,
    /// at unaligned starts, against the table path.
    func testHardwareAndTablePathsAgree() {
        var generator = SplitMix64(seed: 7)
        let data = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        data.withUnsafeBytes { all in
            for length in [0, 1, 7, 8, 9, 63, 767, 768, 1_000, 4096, 24_575, 24_576, 24_577, 25_344, 49_153, 99_000] {
                for start in [0, 1, 3] {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    XCTAssertEqual(
                        CRC32C.checksum(slice), CRC32C.softwareChecksum(slice), "length \(length) start \(start)")
                }
            }
        }
    }

    func testUpdateContinuesAChecksum() {
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        let whole = CRC32C.checksum(text)
        let split = text.withUnsafeBytes { bytes in
            CRC32C.update(
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<10])),
                UnsafeRawBufferPointer(rebasing: bytes[10...]))
        }
        XCTAssertEqual(whole, split)
    }

    func testMaskMatchesTFRecordDefinition() {
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8, as in TensorFlow's crc32c.h.
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        XCTAssertEqual(
            CRC32C.masked(0xE306_9283), ((0xE306_9283 >> 15) | (0xE306_9283 << 17 & 0xFFFF_FFFF)) &+ 0xA282_EAD8)
    }
}
