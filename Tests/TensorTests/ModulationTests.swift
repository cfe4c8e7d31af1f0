import _TestSupport
import XCTest
@testable import Tensor

/// `Tensor.modulation` against the operations it fuses:
/// x̂ · (conv(h, Wγ) + bγ + 1) + conv(h, Wβ) + bβ with h = relu(conv(m, Ws) + bs).
final class ModulationTests: XCTestCase {
    /// x̂ (2×4×5×5), m (2×6×5×5), Ws, bs (6 → 8 hidden), Wγ, bγ, Wβ, bβ (8 → 4); 3×3, 2 groups.
    private func inputs() -> [Tensor] {
        [
            randomInput([2, 4, 5, 5], seed: 60), randomInput([2, 6, 5, 5], seed: 61),
            randomInput([8, 3, 3, 3], seed: 69), randomInput([8], seed: 70),
            randomInput([4, 4, 3, 3], seed: 62), randomInput([4], seed: 63),
            randomInput([4, 4, 3, 3], seed: 64), randomInput([4], seed: 65)
        ]
    }

    private func fused(_ t: [Tensor]) throws -> Tensor {
        try Tensor.modulation(
            normalized: t[0], labels: t[1], shared: ConvolutionParameters(weight: t[2], bias: t[3]),
            gamma: ConvolutionParameters(weight: t[4], bias: t[5]),
            beta: ConvolutionParameters(weight: t[6], bias: t[7]),
            padding: 1, groups: 2)
    }

    private func composed(_ t: [Tensor]) throws -> Tensor {
        let hidden = try t[1].conv2d(weight: t[2], bias: t[3], padding: 1, groups: 2).relu()
        let gamma = try hidden.conv2d(weight: t[4], bias: t[5], padding: 1, groups: 2)
        return try t[0] * gamma.adding(1) + hidden.conv2d(weight: t[6], bias: t[7], padding: 1, groups: 2)
    }

    func testValuesEqualTheComposedOperationsBitForBit() throws {
        let t = inputs()
        XCTAssertEqual(try fused(t).data, try composed(t).data)
    }

    func testGradientsByFiniteDifferences() throws {
        // ReLU's kink: finite differences across it are one-sided.
        try checkGradients(inputs(), acceptOneSided: true) { try fused($0) }
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
            let pairs = try zip(gradients(fused), gradients(composed))
            for (index, (fusedGradient, composedGradient)) in pairs.enumerated() {
                assertClose(fusedGradient, composedGradient, .forward, "input \(index), shared x̂ \(sharedNormalized)")
            }
        }
    }

    /// Without a gradient needed before h (a label map and frozen shared weights), nothing is
    /// computed there and the rest is unchanged.
    func testFrozenSharedConvolutionGetsNoGradient() throws {
        let t = inputs()
        t[1].requiresGrad = false
        t[2].requiresGrad = false
        t[3].requiresGrad = false
        try (fused(t) * randomInput([2, 4, 5, 5], seed: 66)).sum().backward()
        XCTAssertNil(t[2].grad)
        XCTAssertNil(t[3].grad)
        XCTAssertNotNil(t[4].grad)
        XCTAssertNotNil(t[0].grad)
    }

    /// ADE20K's CG-Norm groups the first convolution differently from γ and β. Compared bit for
    /// bit with the composition on the im2col route, which the fused operation always takes.
    func testTheFirstConvolutionWithItsOwnGroups() throws {
        try ConvolutionSettings.withBackend(.im2col) {
            var t = inputs()
            t[2] = randomInput([8, 6, 3, 3], seed: 71)  // one group over the 6 label channels
            let fused = try Tensor.modulation(
                normalized: t[0], labels: t[1], shared: ConvolutionParameters(weight: t[2], bias: t[3]),
                gamma: ConvolutionParameters(weight: t[4], bias: t[5]),
                beta: ConvolutionParameters(weight: t[6], bias: t[7]),
                padding: 1, groups: 2, sharedGroups: 1)
            let hidden = try t[1].conv2d(weight: t[2], bias: t[3], padding: 1).relu()
            let composed =
                try t[0] * hidden.conv2d(weight: t[4], bias: t[5], padding: 1, groups: 2).adding(1)
                + hidden.conv2d(weight: t[6], bias: t[7], padding: 1, groups: 2)
            XCTAssertEqual(fused.data, composed.data)
            try fused.sum().backward()
            let fusedGradient = try XCTUnwrap(t[2].grad)
            t[2].zeroGradient()
            try composed.sum().backward()
            assertClose(fusedGradient, try XCTUnwrap(t[2].grad), .forward, "the first convolution's weight gradient")
        }
    }

    func testMismatchedShapesThrow() {
        let t = inputs()
        XCTAssertThrowsError(
            try fused([randomInput([2, 3, 5, 5], seed: 68)] + t.dropFirst()), "x̂ of another width")
        XCTAssertThrowsError(
            try Tensor.modulation(
                normalized: t[0], labels: t[1], shared: ConvolutionParameters(weight: t[2], bias: t[3]),
                gamma: ConvolutionParameters(weight: t[4], bias: t[5]),
                beta: ConvolutionParameters(weight: t[6], bias: nil),
                padding: 1, groups: 2), "β without the bias γ has")
    }
}
