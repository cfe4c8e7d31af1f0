import _TestSupport
import XCTest
@testable import Tensor

/// `Tensor.modulation` against the operations it fuses: x̂ · (conv(h, Wγ) + bγ + 1) + conv(h, Wβ) + bβ.
final class ModulationTests: XCTestCase {
    /// x̂ (2×4×5×5), h (2×6×5×5), Wγ, bγ, Wβ, bβ for 3×3 convolutions with 2 groups.
    private func inputs() -> [Tensor] {
        [
            randomInput([2, 4, 5, 5], seed: 60), randomInput([2, 6, 5, 5], seed: 61),
            randomInput([4, 3, 3, 3], seed: 62),
            randomInput([4], seed: 63), randomInput([4, 3, 3, 3], seed: 64), randomInput([4], seed: 65)
        ]
    }

    private func fused(_ t: [Tensor]) throws -> Tensor {
        try Tensor.modulation(
            normalized: t[0], hidden: t[1], gammaWeight: t[2], gammaBias: t[3], betaWeight: t[4], betaBias: t[5],
            padding: 1, groups: 2)
    }

    private func composed(_ t: [Tensor]) throws -> Tensor {
        let gamma = try t[1].conv2d(weight: t[2], bias: t[3], padding: 1, groups: 2)
        return try t[0] * gamma.adding(1) + t[1].conv2d(weight: t[4], bias: t[5], padding: 1, groups: 2)
    }

    func testValuesEqualTheComposedOperationsBitForBit() throws {
        let t = inputs()
        XCTAssertEqual(try fused(t).data, try composed(t).data)
    }

    func testGradientsByFiniteDifferences() throws {
        try checkGradients(inputs()) { try fused($0) }
    }

    /// The same gradients as the composition for every input, both when dx̂ is computed in dy's
    /// own buffer (x̂ has no gradient yet) and when it is added to a gradient x̂ already has
    /// (x̂ also feeds another operation, as GroupDNet's norm_0 and norm_s share one x̂).
    func testGradientsEqualTheComposition() throws {
        for sharedNormalized in [false, true] {
            func gradients(_ operation: ([Tensor]) throws -> Tensor) throws -> [[Float]] {
                let t = inputs()
                var loss = try (operation(t) * randomInput([2, 4, 5, 5], seed: 66)).sum()
                if sharedNormalized { loss = try loss + (t[0] * randomInput([2, 4, 5, 5], seed: 67)).sum() }
                try loss.backward()
                return try t.map { try XCTUnwrap($0.grad) }
            }
            for (index, (fusedGradient, composedGradient)) in try zip(gradients(fused), gradients(composed))
                .enumerated()
            {
                assertClose(fusedGradient, composedGradient, .forward, "input \(index), shared x̂ \(sharedNormalized)")
            }
        }
    }

    func testMismatchedShapesThrow() {
        let t = inputs()
        XCTAssertThrowsError(
            try Tensor.modulation(
                normalized: randomInput([2, 3, 5, 5], seed: 68), hidden: t[1], gammaWeight: t[2], gammaBias: t[3],
                betaWeight: t[4], betaBias: t[5], padding: 1, groups: 2), "x̂ of another width")
        XCTAssertThrowsError(
            try Tensor.modulation(
                normalized: t[0], hidden: t[1], gammaWeight: t[2], gammaBias: t[3], betaWeight: t[4], betaBias: nil,
                padding: 1, groups: 2), "β without the bias γ has")
    }
}
