import Foundation
import Tensor
import XCTest

/// The reference comparison's fixtures: float16 storage and the full-size folder. The
/// comparisons themselves are ``assertClose(_:_:_:_:file:line:)`` with a scale-relative
/// ``Tolerance``.
public enum ReferenceComparison {
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

    /// Gives listed elements of the networks' parameters the reference's values and returns a
    /// line saying how many, per network. `listed(name)` gives the positions and values stored
    /// for a parameter's key (`NETWORK.PARAMETER`), nil when none are. The reference tests use
    /// it between the G step and the D step for the weights whose gradient is within rounding
    /// of zero: Adam's first step moves them by ±lr whichever way the sign falls, so they would
    /// otherwise start the D step from other weights than the reference's.
    public static func applyReferenceValues(
        to networks: [(name: String, parameters: [Tensor])],
        listed: (String) throws -> (positions: [Int64], values: [Float])?
    ) throws -> String {
        var counts: [String] = []
        for (network, parameters) in networks {
            var count = 0, total = 0
            for parameter in parameters {
                total += parameter.count
                guard let (positions, values) = try listed("\(network).\(parameter.name)") else { continue }
                for (position, value) in zip(positions, values) { parameter.data[Int(position)] = value }
                count += positions.count
            }
            counts.append("\(network) \(count) of \(total)")
        }
        return "weights given the reference's updated value (gradient within rounding of 0): "
            + counts.joined(separator: ", ")
    }
}
