import XCTest
@testable import Tensor

/// Tolerances for comparing values: |actual − expected| ≤ absolute + relative·|expected|.
struct Tolerance {
    var absolute: Float
    var relative: Float
    static let forward = Tolerance(absolute: 1e-5, relative: 1e-5)
    /// Central differences in Float32 with step 1e-2 (see `checkGradients`).
    static let finiteDifference = Tolerance(absolute: 2e-3, relative: 1e-2)
}

/// Asserts that two arrays have the same length and agree within `tolerance`, reporting the
/// worst element with its index.
func assertClose(_ actual: [Float], _ expected: [Float], _ tolerance: Tolerance, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var worstIndex = -1
    var worstExcess: Float = 0
    for i in actual.indices {
        let allowed = tolerance.absolute + tolerance.relative * Swift.abs(expected[i])
        let excess = Swift.abs(actual[i] - expected[i]) - allowed
        if !(excess <= worstExcess) { worstExcess = excess; worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("\(what): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) (tolerance \(tolerance))",
                file: file, line: line)
    }
}

/// Checks any operation: its output shape (and values, when `expectedValues` is given), then
/// the gradient of every input that requires one against central finite differences.
///
/// The scalar checked is L = Σ y ⊙ R with R a fixed random projection, so every output
/// element's gradient path matters. L is accumulated in Double; the forward stays Float32,
/// so the step is 1e-2 and the tolerance `Tolerance.finiteDifference`. At most
/// `maximumProbes` elements per input are probed, spread evenly. Operations with kinks
/// (ReLU, |x|) need inputs kept away from them by the caller.
func checkGradients(_ inputs: [Tensor], expectedShape: [Int]? = nil, expectedValues: [Float]? = nil,
                    step: Float = 1e-2, tolerance: Tolerance = .finiteDifference, maximumProbes: Int = 80,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ operation: ([Tensor]) throws -> Tensor) throws {
    for input in inputs { input.zeroGradient() }
    let output = try operation(inputs)
    if let expectedShape { XCTAssertEqual(output.shape, expectedShape, "output shape", file: file, line: line) }
    if let expectedValues { assertClose(output.data, expectedValues, .forward, "output values", file: file, line: line) }
    var source = RandomSource(seed: 99)
    let projection = Tensor.randomNormal(output.shape, using: &source)
    try (output * projection).sum().backward()

    func projectedLoss() throws -> Double {
        let y = try Tensor.withoutGradients { try operation(inputs) }
        return zip(y.data, projection.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
        guard let analytic = input.grad else {
            XCTFail("input \(inputIndex) \(input.label) received no gradient", file: file, line: line)
            continue
        }
        let stride = max(1, input.count / maximumProbes)
        var numeric: [Float] = [], probed: [Float] = []
        for element in Swift.stride(from: 0, to: input.count, by: stride) {
            let original = input.data[element]
            input.data[element] = original + step
            let plus = try projectedLoss()
            input.data[element] = original - step
            let minus = try projectedLoss()
            input.data[element] = original
            numeric.append(Float((plus - minus) / (2 * Double(step))))
            probed.append(analytic[element])
        }
        assertClose(probed, numeric, tolerance, "gradient of input \(inputIndex) \(input.label)", file: file, line: line)
    }
}

/// A tensor of seeded standard normal values that requires a gradient.
func randomInput(_ shape: [Int], seed: UInt64, name: String = "") -> Tensor {
    var source = RandomSource(seed: seed)
    let tensor = Tensor.randomNormal(shape, using: &source, requiresGrad: true, name: name)
    return tensor
}

/// Like `randomInput`, but every value at least `margin` away from each of `kinks`, so that
/// finite differences never straddle a point where the derivative jumps.
func randomInputAwayFrom(_ kinks: [Float], margin: Float = 0.05, _ shape: [Int], seed: UInt64) -> Tensor {
    let tensor = randomInput(shape, seed: seed)
    for i in tensor.data.indices {
        for kink in kinks where Swift.abs(tensor.data[i] - kink) < margin {
            tensor.data[i] = kink + (tensor.data[i] >= kink ? margin : -margin)
        }
    }
    return tensor
}
