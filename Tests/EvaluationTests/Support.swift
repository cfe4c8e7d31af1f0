import Foundation
import GroupDNet
import Tensor
import XCTest
import _TestSupport

/// The committed scripts of this test target.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The Python environment with lpips, pytorch-fid and torchvision that scripts/setup-evaluation-reference
/// makes under .cache/ (torchvision needs the package index's own torch build, not the machine's).
enum ReferencePython {
    static var interpreter: URL { TestPaths.cache.appendingPathComponent("evaluation-venv/bin/python") }

    /// Runs the fixture script `name` with `arguments` in the reference environment and returns
    /// what it printed; skips the test, naming the setup script, when the environment is absent.
    static func run(_ name: String, arguments: [String], requiring module: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: interpreter.path) else {
            throw XCTSkip("the reference packages are not installed: run scripts/setup-evaluation-reference")
        }
        let script = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        return try Python.run(script, arguments: arguments, requiring: module, interpreter: interpreter.path)
    }
}

extension SafeTensors.File {
    /// A float entry's values, which must exist.
    func floats(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        try XCTUnwrap(entries[name]?.floats, "reference entry \(name) missing or not F32", file: file, line: line)
    }

    /// A float entry as a tensor.
    func tensor(_ name: String) throws -> Tensor {
        let entry = try XCTUnwrap(entries[name], "reference entry \(name) missing")
        return try Tensor(shape: entry.shape, data: XCTUnwrap(entry.floats))
    }
}

/// Writes a safetensors file of normally distributed float tensors of the given shapes, scaled
/// by 1/√fan-in so that deep random networks keep activations of order one; the tensors whose
/// keys `nonNegative` accepts take absolute values (LPIPS' linear weights, variances).
func writeRandomWeights(
    _ shapes: [String: [Int]], to url: URL, seed: UInt64, nonNegative: (String) -> Bool = { $0.hasPrefix("lin") }
) throws {
    var random = RandomSource(seed: seed)
    var entries: [String: SafeTensors.Entry] = [:]
    for (key, shape) in shapes.sorted(by: { $0.key < $1.key }) {
        let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
        var values = Tensor.randomNormal(shape, using: &random).data.map { $0 / Float(fanIn).squareRoot() }
        if nonNegative(key) { values = values.map(abs) }
        entries[key] = SafeTensors.Entry(shape: shape, floats: values)
    }
    try SafeTensors.write(SafeTensors.File(entries: entries), to: url)
}

extension SafeTensors.File {
    /// float64 values stored as the U8 bytes of `<name>.f64` (the reader has no F64).
    func doubles(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        let entry = try XCTUnwrap(
            entries[name + ".f64"], "reference entry \(name).f64 missing", file: file, line: line)
        return entry.bytes.withUnsafeBytes { raw in
            (0..<entry.bytes.count / 8).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) }
        }
    }
}
