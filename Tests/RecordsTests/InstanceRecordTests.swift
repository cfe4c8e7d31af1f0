import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport

/// Records with instance maps (Cityscapes): the optional `instance/*` fields, stored raw or as
/// a 16-bit PNG, read back exactly, delivered by the loader, and absent from other records.
final class InstanceRecordTests: TemporaryFolderTestCase {
    /// Sample n's instance ids: above 255 (a car's 26000 + n) beside stuff ids, so a byte-wide
    /// path would lose them.
    private func instances(number: Int, width: Int, height: Int) -> InstanceMap {
        InstanceMap(
            width: width, height: height,
            values: (0..<(width * height)).map { $0 % width < width / 2 ? 7 : UInt16(26000 + number) })
    }

    private func payload(number: Int, encoding: SegmentationRecord.LabelEncoding, withInstances: Bool) throws
        -> [UInt8]
    {
        let sample = Synthetic.sample(number: number, width: 8, height: 6)
        let map = instances(number: number, width: 8, height: 6)
        return try SegmentationRecord.example(
            key: Synthetic.key(number), photo: .pixels(sample.image), label: sample.label,
            instances: withInstances ? .init(map: map) : nil, classCount: 8, imageEncoding: .raw,
            labelEncoding: encoding
        ).encoded()
    }

    func testInstanceMapsRoundTripInBothEncodings() throws {
        for encoding in [SegmentationRecord.LabelEncoding.raw, .png] {
            let bytes = try payload(number: 3, encoding: encoding, withInstances: true)
            let decoded = try bytes.withUnsafeBytes { raw -> InstanceMap? in
                let view = try SegmentationRecord.View(payload: raw)
                XCTAssertTrue(view.hasInstances)
                XCTAssertEqual(view.instanceFormat, encoding.rawValue)
                return try view.decodedInstances()
            }
            XCTAssertEqual(decoded, instances(number: 3, width: 8, height: 6), "\(encoding)")
        }
    }

    func testRecordsWithoutInstanceMapsHaveNoInstanceFields() throws {
        let bytes = try payload(number: 1, encoding: .png, withInstances: false)
        try bytes.withUnsafeBytes { raw in
            let view = try SegmentationRecord.View(payload: raw)
            XCTAssertFalse(view.hasInstances)
            XCTAssertNil(try view.decodedInstances())
        }
        let example = try Example(decoding: bytes)
        XCTAssertNil(example.features[SegmentationRecord.Field.instanceEncoded])
        XCTAssertNil(example.features[SegmentationRecord.Field.instanceFormat])
    }

    func testAnInstanceMapOfAnotherSizeIsRefusedNamingTheKey() {
        let sample = Synthetic.sample(number: 2, width: 8, height: 6)
        XCTAssertThrowsError(
            try SegmentationRecord.example(
                key: "k2", photo: .pixels(sample.image), label: sample.label,
                instances: .init(map: InstanceMap(width: 6, height: 8)), classCount: 8, imageEncoding: .raw,
                labelEncoding: .raw)
        ) { XCTAssertTrue("\($0)".contains("instance map is 6×8 but label is 8×6"), "\($0)") }
    }

    func testLoaderDeliversEachSamplesInstanceMap() throws {
        let directory = folder.appendingPathComponent("set")
        let source = RecordSource(split: "train", count: 5, identity: { "\($0)" }) {
            try self.payload(number: $0, encoding: .png, withInstances: true)
        }
        try ShardSetWriter(configuration: Synthetic.configuration(directory)).write([source])
        let loader = try SegmentationLoader(
            set: try ShardSet(directory: directory), options: .init(seed: 1, shuffle: false, epochLimit: 1))
        XCTAssertTrue(loader.hasInstances)
        var seen = 0
        while let sample = try loader.next() {
            let number = Int(sample.key.dropFirst("sample-".count))!
            XCTAssertEqual(sample.instances.map(Array.init), instances(number: number, width: 8, height: 6).values)
            seen += 1
        }
        XCTAssertEqual(seen, 5)
    }
}
