import ImageIO
import Records
import XCTest
import _TestSupport

final class SegmentationRecordTests: XCTestCase {
    func testClassSplitGivesHalfOpenBoxesAndAreas() throws {
        // 4×3 map, classes: 0 top-left 2×2, 1 a column at x 3, 2 absent, 3 the rest.
        let label = LabelMap(
            width: 4, height: 3,
            values: [
                0, 0, 3, 1,
                0, 0, 3, 1,
                3, 3, 3, 1
            ])
        let split = try SegmentationRecord.classSplit(of: label, classCount: 4)
        XCTAssertEqual(split.areas, [4, 3, 0, 5])
        XCTAssertEqual(split.boundingBoxes, [0, 0, 2, 2, 3, 0, 4, 3, -1, -1, -1, -1, 0, 0, 3, 3])
    }

    /// A 2×2 raw segmentation record, byte for byte as Python protobuf serialises the same
    /// features (`deterministic=True`): pins the schema's names, types and split values.
    func testSegmentationRecordMatchesGoldenBytes() throws {
        let golden = bytes(
            hex: "0acb030a210a0d696d6167652f656e636f64656412100a0e0a0c000102030405060708090a0b0a170a0c696d6167652f"
                + "666f726d617412070a050a037261770a150a0c696d6167652f68656967687412051a030a01020a140a0b696d6167652f"
                + "776964746812051a030a01020a0c0a036b657912050a030a016b0a160a0d6c6162656c2f636c617373657312051a030a"
                + "01080a190a0d6c6162656c2f656e636f64656412080a060a04000101070a170a0c6c6162656c2f666f726d617412070a"
                + "050a037261770a1a0a0a73706c69742f61726561120c1a0a0a0801020000000000010ae9010a0a73706c69742f62626f"
                + "7812da011ad7010ad4010000010100000202ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01"
                + "ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffff"
                + "ff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffff"
                + "ffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff01ffffffff"
                + "ffffffffff01ffffffffffffffffff01ffffffffffffffffff0101010202")
        let example = try SegmentationRecord.example(
            key: "k", photo: .pixels(Image(width: 2, height: 2, pixels: Array(0..<12))),
            label: LabelMap(width: 2, height: 2, values: [0, 1, 1, 7]), classCount: 8, imageEncoding: .raw,
            labelEncoding: .raw)
        XCTAssertEqual(example.encoded(), golden)
    }

    func testLabelValueAtClassCountIsRejectedWithItsPosition() {
        let label = LabelMap(width: 2, height: 2, values: [0, 1, 2, 8])
        XCTAssertThrowsError(try SegmentationRecord.classSplit(of: label, classCount: 8)) { error in
            XCTAssertTrue("\(error)".contains("label value 8 at (x 1, y 1)"), "\(error)")
        }
    }

    func testRawRecordRoundTrips() throws {
        let sample = Synthetic.sample(number: 3, width: 5, height: 4)
        let payload = try SegmentationRecord.example(
            key: "k3", photo: .pixels(sample.image), label: sample.label, classCount: 8, imageEncoding: .raw,
            labelEncoding: .raw
        ).encoded()
        try payload.withUnsafeBytes { bytes in
            let view = try SegmentationRecord.View(payload: bytes)
            XCTAssertEqual(view.key, "k3")
            XCTAssertEqual(view.width, 5)
            XCTAssertEqual(view.height, 4)
            XCTAssertEqual(view.imageFormat, "raw")
            let decoded = try view.decoded()
            XCTAssertEqual(decoded.image, sample.image)
            XCTAssertEqual(decoded.label, sample.label)
            XCTAssertEqual(view.split, try SegmentationRecord.classSplit(of: sample.label, classCount: 8))
        }
    }

    func testJPEGBytesPassThroughUnchangedWhenQualityIsKept() throws {
        let fakeJPEG: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4]
        let label = LabelMap(width: 2, height: 2, filledWith: 7)
        let example = try SegmentationRecord.example(
            key: "p", photo: .encoded(bytes: fakeJPEG, format: .jpeg, width: 2, height: 2), label: label,
            labelFileBytes: [9, 9], classCount: 8, imageEncoding: .jpeg(quality: nil), labelEncoding: .png)
        XCTAssertEqual(example.features[SegmentationRecord.Field.imageEncoded], .bytes([fakeJPEG]))
        XCTAssertEqual(example.features[SegmentationRecord.Field.labelEncoded], .bytes([[9, 9]]))
    }

    func testPhotoAndLabelSizesMustAgree() {
        XCTAssertThrowsError(
            try SegmentationRecord.example(
                key: "s", photo: .pixels(Image(width: 3, height: 2)), label: LabelMap(width: 2, height: 2),
                classCount: 8,
                imageEncoding: .raw, labelEncoding: .raw))
    }
}
