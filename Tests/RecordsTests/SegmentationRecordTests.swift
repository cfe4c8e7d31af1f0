import ImageIO
import Records
import XCTest

final class SegmentationRecordTests: XCTestCase {
    func testClassSplitGivesHalfOpenBoxesAndAreas() throws {
        // 4×3 map, classes: 0 top-left 2×2, 1 a column at x 3, 2 absent, 3 the rest.
        let label = LabelMap(width: 4, height: 3, values: [
            0, 0, 3, 1,
            0, 0, 3, 1,
            3, 3, 3, 1,
        ])
        let split = try SegmentationRecord.classSplit(of: label, classCount: 4)
        XCTAssertEqual(split.areas, [4, 3, 0, 5])
        XCTAssertEqual(split.boundingBoxes, [0, 0, 2, 2, 3, 0, 4, 3, -1, -1, -1, -1, 0, 0, 3, 3])
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
        XCTAssertThrowsError(try SegmentationRecord.example(
            key: "s", photo: .pixels(Image(width: 3, height: 2)), label: LabelMap(width: 2, height: 2), classCount: 8,
            imageEncoding: .raw, labelEncoding: .raw))
    }
}
