import Foundation
import Records
import XCTest

/// Index files and record framing from someone else (found by `scripts/fuzz tfrecord`).
final class HostileIndexTests: XCTestCase {
    /// An index whose record count is near 2⁶¹: the size it implies overflowed and trapped.
    func testARecordCountWhoseSizeOverflowsIsRefused() throws {
        var bytes = ShardIndex(offsets: [0], shardSize: 64).encoded()
        for count: UInt64 in [0x1FFF_FFFF_FFFF_FFFF, 0x2000_0000_0000_0000, .max] {
            withUnsafeBytes(of: count.littleEndian) { bytes.replaceSubrange(16..<24, with: $0) }
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try ShardIndex(decoding: $0, file: "x.index") }) { error in
                XCTAssertEqual("\(error)", "x.index: bad index: a count of \(count) records is no index's")
            }
        }
    }

    /// A record whose length field (with a correct checksum) claims 2⁶⁴ - 1 bytes: the size
    /// the error reports overflowed and trapped.
    func testARecordLengthNearTwoToThe64IsReportedAsTruncated() throws {
        var bytes = withUnsafeBytes(of: UInt64.max.littleEndian) { Array($0) }
        let crc = bytes.withUnsafeBytes { CRC32C.maskedChecksum($0) }
        bytes += withUnsafeBytes(of: crc.littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 8)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try TFRecord.read($0, at: 0, file: "x.tfrecord", record: 0) })
        {
            error in
            guard case .truncated(let needed, let available) = (error as! RecordsError).reason else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(needed, Int.max)
            XCTAssertEqual(available, 20)
        }
    }
}
