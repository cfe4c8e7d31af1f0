import Foundation
import XCTest

/// Comparisons of Swift results with tensors the reference (PyTorch) computed, each judged
/// relative to the reference tensor's own scale and printed one line per tensor, as llm.c's
/// test prints its maximum difference per tensor, so a failure shows how far off it is.
public enum ReferenceComparison {
    /// The outcome of one comparison.
    public struct Result {
        public var maximumDifference: Float
        /// max|reference|: the tensor's own scale.
        public var scale: Float
        /// ‖actual − expected‖₂ / ‖expected‖₂: how far off the tensor is as a whole, where the
        /// maximum shows its worst element.
        public var relativeL2: Float
        /// maximumDifference / scale (0 when both are 0).
        public var relative: Float { scale > 0 ? maximumDifference / scale : maximumDifference }
    }

    /// Asserts max|actual − expected| ≤ `tolerance` × max|expected| (or ≤ `tolerance` when the
    /// reference is all zeros), that no value is NaN, and prints the figures under `name`.
    /// `quantum` is an absolute error the reference carries from its storage (half of a
    /// float16 step of the scale), added to the bound. With `relativeL2`, also asserts
    /// ‖actual − expected‖₂ ≤ relativeL2 × ‖expected‖₂.
    @discardableResult
    public static func assertClose(_ actual: [Float], _ expected: [Float], _ name: String, tolerance: Float,
                                   quantum: Float = 0, relativeL2: Float? = nil,
                                   file: StaticString = #filePath, line: UInt = #line) -> Result? {
        guard actual.count == expected.count else {
            XCTFail("\(name): \(actual.count) values, expected \(expected.count)", file: file, line: line)
            return nil
        }
        var result = Result(maximumDifference: 0, scale: 0, relativeL2: 0)
        var differenceSquares = 0.0, referenceSquares = 0.0
        for (a, e) in zip(actual, expected) {
            result.maximumDifference = max(result.maximumDifference, abs(a - e))
            result.scale = max(result.scale, abs(e))
            differenceSquares += Double(a - e) * Double(a - e)
            referenceSquares += Double(e) * Double(e)
        }
        result.relativeL2 = referenceSquares > 0 ? Float((differenceSquares / referenceSquares).squareRoot()) : 0
        let bound = tolerance * (result.scale > 0 ? result.scale : 1) + quantum
        print(String(format: "  %-58@ max|Δ| %.2e  max|ref| %.3e  rel %.2e  relL2 %.1e  n %d", name as NSString,
                     result.maximumDifference, result.scale, result.relative, result.relativeL2, expected.count))
        XCTAssertFalse(actual.contains { $0.isNaN }, "\(name) has NaN", file: file, line: line)
        XCTAssertLessThanOrEqual(result.maximumDifference, bound,
                                 "\(name): max abs difference \(result.maximumDifference) against max|ref| \(result.scale)",
                                 file: file, line: line)
        if let relativeL2 {
            XCTAssertLessThanOrEqual(result.relativeL2, relativeL2, "\(name): relative L2 difference \(result.relativeL2)",
                                     file: file, line: line)
        }
        return result
    }

    /// Float16 values stored as little-endian byte pairs, widened to Float.
    public static func halfFloats(_ bytes: [UInt8]) -> [Float] {
        precondition(bytes.count % 2 == 0, "float16 data needs an even number of bytes")
        return stride(from: 0, to: bytes.count, by: 2).map {
            Float(Float16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8))
        }
    }

    /// The folder of the full-size reference fixtures, `.cache/reference-full` in the
    /// repository (written by `Tests/GroupDNetTests/Fixtures/make_smis_reference.py --full`,
    /// never committed), when `SMIS_REFERENCE_FULL=1` is set and the folder is complete; else
    /// nil with a message for `XCTSkip`. The variable keeps them out of ordinary parallel test
    /// runs even where the fixtures exist: each test needs about 10 GB, so
    /// `scripts/test-reference-full` sets it and runs them one at a time.
    public static func fullSizeFixtures() -> (folder: URL?, message: String) {
        let folder = TestPaths.cache.appendingPathComponent("reference-full")
        guard ProcessInfo.processInfo.environment["SMIS_REFERENCE_FULL"] == "1" else {
            return (nil, "full-size reference comparison not requested: scripts/test-reference-full runs it "
                        + "(one test at a time, about 10 GB each; needs the reference's source and torch)")
        }
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("reference.safetensors").path) {
            return (folder, "")
        }
        return (nil, "no full-size reference fixtures in \(folder.path): run scripts/test-reference-full "
                    + "(needs the reference's source and torch) to write them and run these tests one at a time")
    }
}
