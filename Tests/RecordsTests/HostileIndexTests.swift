import Foundation
import Records
import XCTest

/// Index files from someone else (found by `scripts/fuzz tfrecord`).
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
}
