import Foundation
import GroupDNet
import XCTest

/// safetensors headers from someone else: every number is checked before it is used, and a
/// bad one is refused naming the file and the tensor, never trapped on.
final class SafeTensorsHostileTests: XCTestCase {
    /// A file of `header` (JSON) followed by `data` bytes.
    private func file(_ header: String, data: Int = 16) -> Data {
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: data)
        return Data(bytes)
    }

    private func assertRefused(_ header: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try SafeTensors.decode(self.file(header), path: "x.safetensors"), file: file, line: line) {
            error in
            XCTAssertTrue("\(error)".hasPrefix("x.safetensors: tensor t: "), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
        }
    }

    /// The hand-found bug: the element count of [2³¹, 2³¹, 4] overflowed and trapped.
    func testAShapeWhoseByteCountOverflowsIsRefused() {
        assertRefused(
            #"{"t":{"dtype":"F32","shape":[2147483648,2147483648,4],"data_offsets":[0,16]}}"#, "more than 2⁶³")
        assertRefused(
            #"{"t":{"dtype":"I64","shape":[9007199254740992,2048],"data_offsets":[0,16]}}"#, "more than 2⁶³")
        assertRefused(
            #"{"t":{"dtype":"U8","shape":[0,9007199254740992,9007199254740992],"data_offsets":[0,16]}}"#, "needs 0")
    }

    func testNumbersThatAreNoSizesAreRefused() {
        for shape in ["[1.5]", "[-1]", "[1e30]", "[\"4\"]", "[null]", "[18446744073709551615]"] {
            assertRefused(#"{"t":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,16]}}"#, "whole numbers ≥ 0")
        }
        for offsets in ["[-16,0]", "[0,1e300]", "[0.5,16]", "[16,0]", "[0,17]", "[0,9223372036854775807]"] {
            assertRefused(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":\#(offsets)}}"#, "do not fit")
        }
    }

    func testAValidHeaderStillReads() throws {
        let read = try SafeTensors.decode(
            file(#"{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#), path: "x.safetensors")
        XCTAssertEqual(read.entries["t"]?.floats, [0, 0, 0, 0])
    }
}
