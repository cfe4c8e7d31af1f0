import _TestSupport
import XCTest
@testable import Tensor

/// The modulation's backward pass by run sums (ModulationRunSums.swift) against its dense path,
/// on label maps that are piecewise constant as real ones are.
final class ModulationRunSumsTests: XCTestCase {
    override func tearDown() {
        ModulationSettings.runSums = true
        super.tearDown()
    }

    /// A batch of one-hot label maps (batch × classes × 8 × 48): a few rectangles of classes over
    /// a background, different in each sample.
    private func blockLabels(batch: Int, classes: Int, height: Int = 8, width: Int = 48) throws -> Tensor {
        var values = [Float](repeating: 0, count: batch * classes * height * width)
        for sample in 0..<batch {
            for y in 0..<height {
                for x in 0..<width {
                    var label = 0
                    if x >= 5 + sample && x < 17 && y >= 2 { label = 1 % classes }
                    if x >= 20 && y < 5 + sample { label = 2 % classes }
                    if x >= 9 && x < 12 && y == 6 { label = 3 % classes }
                    values[((sample * classes + label) * height + y) * width + x] = 1
                }
            }
        }
        return try Tensor(shape: [batch, classes, height, width], data: values)
    }

    private struct Case {
        var hidden = 8, channels = 4, classes = 6, groups = 2, sharedGroups = 2, padding = 1, kernel = 3
    }

    /// x̂, labels, Ws, bs, Wγ, bγ, Wβ, bβ for `c`.
    private func inputs(_ c: Case, batch: Int = 2) throws -> [Tensor] {
        let side = [c.kernel, c.kernel]
        let shrink = 2 * (c.kernel - 1 - 2 * c.padding)  // two convolutions' worth
        return [
            randomInput([batch, c.channels, 8 - shrink, 48 - shrink], seed: 80),
            try blockLabels(batch: batch, classes: c.classes),
            randomInput([c.hidden, c.classes / c.sharedGroups] + side, seed: 81), randomInput([c.hidden], seed: 82),
            randomInput([c.channels, c.hidden / c.groups] + side, seed: 83), randomInput([c.channels], seed: 84),
            randomInput([c.channels, c.hidden / c.groups] + side, seed: 85), randomInput([c.channels], seed: 86)
        ]
    }

    private func modulation(_ t: [Tensor], _ c: Case) throws -> Tensor {
        try Tensor.modulation(
            normalized: t[0], labels: t[1], shared: ConvolutionParameters(weight: t[2], bias: t[3]),
            gamma: ConvolutionParameters(weight: t[4], bias: t[5]),
            beta: ConvolutionParameters(weight: t[6], bias: t[7]),
            padding: c.padding, groups: c.groups, sharedGroups: c.sharedGroups)
    }

    /// Every input's gradient with the run-sum path on or off.
    private func gradients(_ c: Case, runSums: Bool) throws -> [[Float]] {
        ModulationSettings.runSums = runSums
        let t = try inputs(c)
        t[1].requiresGrad = false
        let output = try modulation(t, c)
        try (output * randomInput(output.shape, seed: 87)).sum().backward()
        return try [0, 2, 3, 4, 5, 6, 7].map { try XCTUnwrap(t[$0].grad) }
    }

    func testGradientsEqualTheDensePath() throws {
        let cases = [
            Case(), Case(groups: 1, sharedGroups: 1), Case(hidden: 6, groups: 2, sharedGroups: 6),
            Case(padding: 0), Case(padding: 2, kernel: 5), Case(channels: 2, padding: 0, kernel: 1)
        ]
        for c in cases {
            // The label map must have few enough runs for the path to be taken at all.
            let t = try inputs(c)
            let g = try ConvolutionGeometry(
                input: t[1], weight: t[2], bias: t[3], stride: 1, padding: c.padding, groups: c.sharedGroups)
            XCTAssertNotNil(
                t[1].data.withUnsafeBufferPointer {
                    LabelColumnRuns(labels: $0.baseAddress!, geometry: g, limit: g.outputPlane / 2)
                }, "\(c): runs found")
            for (index, (bySums, dense)) in try zip(gradients(c, runSums: true), gradients(c, runSums: false))
                .enumerated()
            {
                // Sums over thousands of positions in another order: rounding of the tensor's scale.
                assertClose(
                    bySums, dense, Tolerance(absolute: 1e-5, relative: 1e-5, ofScale: 2e-6), "\(c), gradient \(index)")
            }
        }
    }

    func testGradientsByFiniteDifferences() throws {
        var t = try inputs(Case(), batch: 1)
        t[1].requiresGrad = false
        let labels = t.remove(at: 1)
        try checkGradients(t, acceptOneSided: true) {
            try modulation([$0[0], labels] + $0.dropFirst(), Case())
        }
    }

    /// Runs of one row, by hand: classes 0 | 1 | 0 over columns 0–3, 4–9, 10–15 of a 1 × 16 map with a
    /// 3-wide kernel: a column's window changes at the edges (padding) and around each boundary.
    func testRunsOfARow() throws {
        var values = [Float](repeating: 0, count: 2 * 16)
        for x in 0..<16 { values[(4..<10).contains(x) ? 16 + x : x] = 1 }
        let labels = try Tensor(shape: [1, 2, 1, 16], data: values)
        let g = try ConvolutionGeometry(
            input: labels, weight: randomInput([1, 2, 3, 3], seed: 1), bias: nil, stride: 1, padding: 1, groups: 1)
        let runs = try XCTUnwrap(
            labels.data.withUnsafeBufferPointer { LabelColumnRuns(labels: $0.baseAddress!, geometry: g, limit: 16) })
        // Windows: x = 0 has padding; 1–2 all class 0; 3 and 4 straddle; 5–8 all class 1; 9, 10
        // straddle; 11–14 class 0; 15 has padding.
        XCTAssertEqual(runs.starts, [0, 1, 3, 4, 5, 9, 10, 11, 15])
        XCTAssertEqual(runs.ends, [1, 3, 4, 5, 9, 10, 11, 15, 16])
        XCTAssertEqual(runs.rowOffsets, [0, 9])
        XCTAssertNil(
            labels.data.withUnsafeBufferPointer { LabelColumnRuns(labels: $0.baseAddress!, geometry: g, limit: 8) },
            "more runs than the limit")
    }
}
