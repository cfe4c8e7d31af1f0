import Foundation
import Records
import XCTest
import _TestSupport

@testable import Training

/// The Event protobufs against bytes worked out by hand from the wire format, and an event
/// file read back with our TFRecord reader (CRCs checked).
final class TensorBoardEventTests: TemporaryFolderTestCase {
    /// 1.5 as a little-endian double: 0x3FF8000000000000.
    private let wallTimeBytes: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F]

    func testEventsEncodeToHandComputedBytes() {
        let version = TensorBoardEvent(wallTime: 1.5, step: 0, content: .fileVersion("brain.Event:2"))
        // Field 3 (string): key 0x1A, length 13; step 0 is left out, as proto3 does.
        XCTAssertEqual(version.encoded(), wallTimeBytes + [0x1A, 0x0D] + Array("brain.Event:2".utf8))

        let scalar = TensorBoardEvent(wallTime: 1.5, step: 3, content: .summary([.scalar("a", 2)]))
        // step: 0x10 0x03; summary (field 5): 0x2A, 10 bytes = value (field 1): 0x0A, 8 bytes =
        // tag 0x0A 0x01 "a", simple_value (field 2, fixed32) 0x15 then 2.0f = 0x40000000.
        XCTAssertEqual(scalar.encoded(), wallTimeBytes + [0x10, 0x03, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61,
                                                          0x15, 0x00, 0x00, 0x00, 0x40])

        let image = TensorBoardEvent(wallTime: 1.5, step: 300, content: .summary([
            SummaryValue(tag: "s/0", payload: .image(width: 2, height: 1, png: [1, 2, 3])),
        ]))
        // 300 = 0b10_0101100: varint 0xAC 0x02. Image: height 0x08 0x01, width 0x10 0x02,
        // colorspace 0x18 0x03, encoded_image_string 0x22 0x03 01 02 03 (11 bytes); value: tag
        // 0x0A 0x03 "s/0", image (field 4) 0x22 0x0B (18 bytes); summary 0x0A 0x12 (20 bytes).
        XCTAssertEqual(image.encoded(), wallTimeBytes + [0x10, 0xAC, 0x02, 0x2A, 0x14, 0x0A, 0x12,
                                                         0x0A, 0x03, 0x73, 0x2F, 0x30, 0x22, 0x0B,
                                                         0x08, 0x01, 0x10, 0x02, 0x18, 0x03,
                                                         0x22, 0x03, 0x01, 0x02, 0x03])

        let start = TensorBoardEvent(wallTime: 1.5, step: 6, content: .sessionStart)
        // session_log (field 7; 6 is the deprecated log_message): 0x3A, 2 bytes = status (field 1) START = 1.
        XCTAssertEqual(start.encoded(), wallTimeBytes + [0x10, 0x06, 0x3A, 0x02, 0x08, 0x01])

        let negative = TensorBoardEvent(wallTime: 1.5, step: -1, content: .sessionStart)
        XCTAssertEqual(Array(negative.encoded()[9..<20]), [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01],
                       "a negative int64 is a 10-byte varint")
    }

    func testAnEventFileReadsBackRecordByRecordWithTheNamesTensorBoardExpects() throws {
        let time = Date(timeIntervalSince1970: 1_700_000_000.25)
        let writer = try EventFileWriter(directory: folder, now: time)
        let events = [
            TensorBoardEvent(wallTime: 1.5, step: 1, content: .summary([.scalar("loss/G/total", 3.25),
                                                                        .scalar("x", -1)])),
            TensorBoardEvent(wallTime: 1.5, step: 2, content: .sessionStart),
        ]
        try writer.append(events)
        try writer.sync()
        let name = writer.url.lastPathComponent
        let host = ProcessInfo.processInfo.hostName
        XCTAssertEqual(name, "events.out.tfevents.1700000000.\(host).\(getpid()).0")

        let bytes = try [UInt8](Data(contentsOf: writer.url))
        var payloads: [[UInt8]] = []
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let record = try TFRecord.read(raw, at: offset, file: name, record: payloads.count)
                payloads.append(Array(record.payload))
                offset = record.end
            }
        }
        let first = TensorBoardEvent(wallTime: time.timeIntervalSince1970, step: 0,
                                     content: .fileVersion("brain.Event:2"))
        XCTAssertEqual(payloads, [first.encoded()] + events.map { $0.encoded() })

        // A second file in the same second is named one second later, so it sorts after.
        let second = try EventFileWriter(directory: folder, now: time)
        XCTAssertEqual(second.url.lastPathComponent, "events.out.tfevents.1700000001.\(host).\(getpid()).1")
        XCTAssertLessThan(name, second.url.lastPathComponent)
    }
}
