import Foundation
import GroupDNet
import Tensor
import XCTest

/// The committed fixtures of this test target (written by Fixtures/make_reference.py).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

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
