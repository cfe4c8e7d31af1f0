import Foundation
import Records
import XCTest
import _TestSupport

/// A shard truncated or overwritten while a long run reads it (someone else's copy still
/// arriving, a disk filling up): the reader names the shard and the record and stops or skips
/// as its policy says. Before, the loader read records through the memory map, and a read past
/// the new end of the file killed the process with SIGBUS.
final class ShardChangedUnderReaderTests: TemporaryFolderTestCase {
    private var recordSize = 0

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Synthetic.writeSet(folder, count: 30, sizing: .records(10))
        recordSize = try Synthetic.payload(number: 0, width: 8, height: 6).count + TFRecord.overhead
    }

    /// Cuts the shard to its first `records` records, under the open set's feet.
    private func cut(_ name: String, toRecords records: Int) {
        XCTAssertEqual(truncate(folder.appendingPathComponent(name).path, off_t(records * recordSize)), 0)
    }

    func testACopiedReadOfATruncatedShardNamesShardAndRecord() throws {
        let set = try ShardSet(directory: folder)
        cut("train-00001.tfrecord", toRecords: 3)
        var buffer: [UInt8] = []
        let key = try set.withCopiedSegmentationRecord(at: 12, buffer: &buffer) { $0.key }
        XCTAssertEqual(key, "sample-00012", "records before the cut still read")
        XCTAssertThrowsError(try set.withCopiedSegmentationRecord(at: 14, buffer: &buffer) { $0.key }) { error in
            let error = error as! RecordsError
            XCTAssertTrue(error.file.hasSuffix("train-00001.tfrecord"), "\(error)")
            XCTAssertEqual(error.record, 4)
            XCTAssertEqual(error.offset, 4 * recordSize)
            guard case .truncated = error.reason else { return XCTFail("\(error)") }
        }
    }

    /// A record overwritten in place after the set was opened: its checksum fails, and the
    /// error carries the record's location.
    func testACopiedReadOfAnOverwrittenRecordFailsItsChecksum() throws {
        let set = try ShardSet(directory: folder)
        try modify("train-00000.tfrecord") { $0[2 * recordSize + 30] ^= 0xFF }
        var buffer: [UInt8] = []
        XCTAssertThrowsError(try set.withCopiedSegmentationRecord(at: 2, buffer: &buffer) { $0.key }) { error in
            let error = error as! RecordsError
            XCTAssertEqual(error.record, 2)
            XCTAssertEqual(error.offset, 2 * recordSize)
            guard case .checksumMismatch = error.reason else { return XCTFail("\(error)") }
        }
    }

    /// The loader under `.fail` stops naming shard and record; under `.skip` it reads on and
    /// reports each record it skipped.
    func testTheLoaderStopsOrSkipsNamingTheRecord() throws {
        let set = try ShardSet(directory: folder)
        cut("train-00002.tfrecord", toRecords: 6)
        let failing = try SegmentationLoader(
            set: set, options: .init(seed: 1, shuffle: false, corruptionPolicy: .fail, epochLimit: 1))
        var read = 0
        XCTAssertThrowsError(try { while try failing.next() != nil { read += 1 } }()) { error in
            XCTAssertTrue("\(error)".contains("train-00002.tfrecord record 6"), "\(error)")
        }
        XCTAssertEqual(read, 26)

        let skipping = try SegmentationLoader(set: set, options: .init(seed: 1, shuffle: false, epochLimit: 1))
        var numbers: [Int] = []
        while let sample = try skipping.next() { numbers.append(Synthetic.number(ofPixels: sample.pixels)) }
        XCTAssertEqual(numbers, Array(0..<26))
        XCTAssertEqual(skipping.skipped.map(\.record), [6, 7, 8, 9])
        XCTAssertTrue(skipping.skipped.allSatisfy { $0.file.hasSuffix("train-00002.tfrecord") })
    }

    /// A record claiming 2²⁰ × 2²⁰ pixels (4 TB of buffers) is refused by its view, before any
    /// reader allocates for it: no record may exceed the decoders' pixel limit.
    func testARecordClaimingMorePixelsThanTheDecodersAcceptIsRefused() throws {
        var example = try Example(decoding: Synthetic.payload(number: 0, width: 8, height: 6))
        example.features[SegmentationRecord.Field.imageWidth] = .int64s([1 << 20])
        example.features[SegmentationRecord.Field.imageHeight] = .int64s([1 << 20])
        let payload = example.encoded()
        XCTAssertThrowsError(try payload.withUnsafeBytes { try SegmentationRecord.View(payload: $0) }) { error in
            XCTAssertTrue("\(error)".contains("pixel limit"), "\(error)")
        }
    }
}
