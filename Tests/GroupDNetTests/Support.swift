import Foundation
import GroupDNet
import Tensor
import XCTest

/// The committed fixtures of this test target (written by Fixtures/make_reference.py).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Asserts that `actual` matches `expected` within `tolerance × max(1, max|expected|)` and
/// prints the maximum absolute difference, so a regression shows how far off it is.
func assertClose(_ actual: [Float], _ expected: [Float], _ name: String, tolerance: Float = 1e-4,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(name): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var maximum: Float = 0, scale: Float = 1
    for (a, e) in zip(actual, expected) {
        maximum = max(maximum, abs(a - e))
        scale = max(scale, abs(e))
    }
    print(String(format: "  %-62@ max|Δ| %.2e  (max|ref| %.3g, n %d)", name as NSString, maximum, scale, expected.count))
    XCTAssertLessThanOrEqual(maximum, tolerance * scale, "\(name): max abs difference \(maximum)", file: file, line: line)
    XCTAssertFalse(actual.contains { $0.isNaN }, "\(name) has NaN", file: file, line: line)
}

extension SafeTensors.File {
    /// An entry that must exist.
    func entry(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> SafeTensors.Entry {
        try XCTUnwrap(entries[name], "fixture entry \(name) missing", file: file, line: line)
    }

    /// A float entry's values.
    func floats(_ name: String) throws -> [Float] { try XCTUnwrap(entry(name).floats, "\(name) is not F32") }

    /// A float entry as a tensor.
    func tensor(_ name: String) throws -> Tensor {
        let entry = try entry(name)
        return try Tensor(shape: entry.shape, data: XCTUnwrap(entry.floats))
    }
}
