import Records
import XCTest
import _TestSupport

final class ExampleCodecTests: XCTestCase {
    /// Bytes produced by Python protobuf (`SerializeToString(deterministic=True)`, the
    /// `tfrecord` package's example_pb2) for the same features; keys sorted e, key, n, x.
    static let goldenExample: [UInt8] = bytes(
        hex: "0a3f0a070a016512020a000a0d0a036b657912060a040a0261620a160a016e12111a0f0a0d01ffffffffffffffffff01ac02"
            + "0a0d0a0178120812060a040000c03f")

    static let goldenFeatures: [String: Feature] = [
        "key": .bytes([Array("ab".utf8)]),
        "n": .int64s([1, -1, 300]),
        "x": .floats([1.5]),
        "e": .bytes([])
    ]

    func testEncodingMatchesGoldenBytes() {
        XCTAssertEqual(Example(features: Self.goldenFeatures).encoded(), Self.goldenExample)
    }

    func testDecodingGoldenBytesGivesTheFeatures() throws {
        XCTAssertEqual(try Example(decoding: Self.goldenExample).features, Self.goldenFeatures)
    }

    /// A TFRecord written by the Python `tfrecord` package for {"key": b"ab"}.
    func testFramingMatchesGoldenRecord() {
        let payload = Example(features: ["key": .bytes([Array("ab".utf8)])]).encoded()
        XCTAssertEqual(
            TFRecord.framed(payload), bytes(hex: "11000000000000009d6db52e0a0f0a0d0a036b657912060a040a026162e3190176"))
    }

    func testUnpackedNumbersAndUnknownFieldsAreAccepted() throws {
        // Example{features{feature{key:"n" value{int64_list{value:5 value:6}}}}} written unpacked
        // (0x08 tags), plus an unknown varint field 7 inside Features.
        let int64List: [UInt8] = [0x08, 0x05, 0x08, 0x06]
        let feature: [UInt8] = [0x1A, UInt8(int64List.count)] + int64List
        let entry: [UInt8] = [0x0A, 0x01, UInt8(ascii: "n"), 0x12, UInt8(feature.count)] + feature
        let features: [UInt8] = [0x0A, UInt8(entry.count)] + entry + [0x38, 0x01]
        let example: [UInt8] = [0x0A, UInt8(features.count)] + features
        XCTAssertEqual(try Example(decoding: example).features, ["n": .int64s([5, 6])])
    }

    func testTruncatedPayloadIsRejected() {
        var bytes = Self.goldenExample
        bytes.removeLast(3)
        XCTAssertThrowsError(try Example(decoding: bytes)) { error in
            guard case .malformedPayload = (error as? RecordsError)?.reason else { return XCTFail("\(error)") }
        }
    }

    func testEncodingIsIndependentOfInsertionOrder() {
        var a = Example()
        var b = Example()
        for (key, value) in Self.goldenFeatures { a.features[key] = value }
        for (key, value) in Self.goldenFeatures.reversed() { b.features[key] = value }
        XCTAssertEqual(a.encoded(), b.encoded())
    }
}
