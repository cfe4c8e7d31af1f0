import Tensor
import XCTest

/// How far a computed value may be from the expected one. An element passes when
/// |actual − expected| ≤ `absolute` + `relative` · |expected| + `ofScale` · S, where S is
/// max|expected| (1 when the expected values are all zero), floored at `scaleFloor`; with
/// `relativeL2`, the whole array must also have ‖actual − expected‖₂ ≤ `relativeL2` · ‖expected‖₂.
///
/// `absolute` and `relative` judge each element on its own (an operation against a formula).
/// `ofScale` judges it against the whole tensor's magnitude (a network against a reference
/// implementation, where small elements carry the rounding of the large sums behind them);
/// `absolute` then also carries the error of the reference's storage (half a float16 step).
public struct Tolerance: CustomStringConvertible, Sendable {
    public var absolute: Float
    public var relative: Float
    public var ofScale: Float
    public var scaleFloor: Float
    public var relativeL2: Float?

    public init(
        absolute: Float = 0, relative: Float = 0, ofScale: Float = 0, scaleFloor: Float = 0,
        relativeL2: Float? = nil
    ) {
        (self.absolute, self.relative, self.ofScale, self.scaleFloor) = (absolute, relative, ofScale, scaleFloor)
        self.relativeL2 = relativeL2
    }

    /// A single op's forward values against a formula or PyTorch.
    public static let forward = Tolerance(absolute: 1e-5, relative: 1e-5)
    /// Central differences in Float32 with step 1e-2 (see ``checkGradients``).
    public static let finiteDifference = Tolerance(absolute: 2e-3, relative: 1e-2)
    /// The tiny network against PyTorch: 1e-4 of the tensor's largest magnitude, or of 1 when
    /// that is smaller.
    public static let reference = Tolerance(ofScale: 1e-4, scaleFloor: 1)

    public var description: String {
        "absolute \(absolute), relative \(relative), of scale \(ofScale)"
            + (relativeL2.map { ", relative L2 \($0)" } ?? "")
    }
}

/// How an array compared with the expected one.
public struct Comparison: Sendable {
    public var maximumDifference: Float
    /// max|expected|: the tensor's own scale.
    public var scale: Float
    /// ‖actual − expected‖₂ / ‖expected‖₂: how far off the array is as a whole.
    public var relativeL2: Float
    /// maximumDifference / scale (the difference itself when the scale is 0).
    public var relative: Float { scale > 0 ? maximumDifference / scale : maximumDifference }
}

/// Asserts that two arrays have the same length and agree within `tolerance` (NaN never
/// does), and prints one line with the largest difference, the scale and the relative L2
/// difference, as llm.c's test prints each tensor's, so that a passing comparison still shows
/// how close it is and a failing one which element is worst.
@discardableResult
public func assertClose(
    _ actual: [Float], _ expected: [Float], _ tolerance: Tolerance, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) -> Comparison? {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return nil
    }
    var result = Comparison(maximumDifference: 0, scale: 0, relativeL2: 0)
    var differenceSquares = 0.0, expectedSquares = 0.0
    for (a, e) in zip(actual, expected) {
        result.maximumDifference = Swift.max(result.maximumDifference, Swift.abs(a - e))
        result.scale = Swift.max(result.scale, Swift.abs(e))
        differenceSquares += Double(a - e) * Double(a - e)
        expectedSquares += Double(e) * Double(e)
    }
    result.relativeL2 = expectedSquares > 0 ? Float((differenceSquares / expectedSquares).squareRoot()) : 0
    let scale = Swift.max(result.scale > 0 ? result.scale : 1, tolerance.scaleFloor)
    var worstIndex = -1, worstExcess: Float = 0
    for i in actual.indices {
        let allowed = tolerance.absolute + tolerance.relative * Swift.abs(expected[i]) + tolerance.ofScale * scale
        let excess = Swift.abs(actual[i] - expected[i]) - allowed
        if !(excess <= worstExcess) { worstExcess = excess; worstIndex = i }
    }
    print(
        String(
            format: "  %-58@ max|Δ| %.2e  max|ref| %.3e  rel %.2e  relL2 %.1e  n %d", what as NSString,
            result.maximumDifference, result.scale, result.relative, result.relativeL2, expected.count))
    if worstIndex >= 0 {
        XCTFail(
            "\(what): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) (\(tolerance))",
            file: file, line: line)
    }
    if let bound = tolerance.relativeL2, !(result.relativeL2 <= bound) {
        XCTFail("\(what): relative L2 difference \(result.relativeL2) (\(tolerance))", file: file, line: line)
    }
    return result
}

/// Checks any differentiable computation: its output shape (and values, when
/// `expectedValues` is given), then the gradient of every input that requires one against
/// finite differences.
///
/// The scalar checked is L = Σ y ⊙ R with R a fixed random projection, so every output
/// element's gradient path matters. L is accumulated in Double: a Float32 loss of a few
/// hundred has an ulp of 1.5e-5, which alone would swamp a difference quotient. The forward
/// stays Float32, hence the default step 1e-2. At most `maximumProbes` elements per input are
/// probed, spread evenly.
///
/// Operations with kinks (ReLU, |x|) need inputs kept away from them. Where the caller cannot
/// (a one-hot label map drives ReLU inputs to within 1e-4 of 0 inside a network), pass
/// `acceptOneSided`: the analytic gradient there is one of the two one-sided slopes, so a
/// match with the central or either one-sided difference passes.
public func checkGradients(
    _ inputs: [Tensor], expectedShape: [Int]? = nil, expectedValues: [Float]? = nil,
    step: Float = 1e-2, tolerance: Tolerance = .finiteDifference, maximumProbes: Int = 80,
    acceptOneSided: Bool = false, file: StaticString = #filePath, line: UInt = #line,
    _ operation: ([Tensor]) throws -> Tensor
) throws {
    for input in inputs { input.zeroGradient() }
    let output = try operation(inputs)
    if let expectedShape { XCTAssertEqual(output.shape, expectedShape, "output shape", file: file, line: line) }
    if let expectedValues {
        assertClose(output.data, expectedValues, .forward, "output values", file: file, line: line)
    }
    var source = RandomSource(seed: 99)
    let projection = Tensor.randomNormal(output.shape, using: &source)
    try (output * projection).sum().backward()

    func projectedLoss() throws -> Double {
        let y = try Tensor.withoutGradients { try operation(inputs) }
        return zip(y.data, projection.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let center = try projectedLoss()
    for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
        guard let analytic = input.grad else {
            XCTFail(
                "input \(inputIndex) \(input.name.isEmpty ? "\(input.shape)" : input.name) received no gradient",
                file: file, line: line)
            continue
        }
        var numeric: [Float] = [], probed: [Float] = []
        for element in Swift.stride(from: 0, to: input.count, by: Swift.max(1, input.count / maximumProbes)) {
            let original = input.data[element]
            input.data[element] = original + step
            let plus = try projectedLoss()
            input.data[element] = original - step
            let minus = try projectedLoss()
            input.data[element] = original
            // The steps actually taken (original ± step rounded to Float), not the nominal ones.
            let up = Double(original + step) - Double(original), down = Double(original) - Double(original - step)
            var candidates = [(plus - minus) / (up + down)]
            if acceptOneSided { candidates += [(plus - center) / up, (center - minus) / down] }
            let expected = analytic[element]
            let closest = candidates.map(Float.init).min { Swift.abs($0 - expected) < Swift.abs($1 - expected) }!
            numeric.append(closest)
            probed.append(expected)
        }
        assertClose(
            probed, numeric, tolerance,
            "gradient of input \(inputIndex) \(input.name.isEmpty ? "\(input.shape)" : input.name)", file: file,
            line: line)
    }
}

/// A tensor of seeded standard normal values that requires a gradient.
public func randomInput(_ shape: [Int], seed: UInt64, name: String = "") -> Tensor {
    var source = RandomSource(seed: seed)
    return Tensor.randomNormal(shape, using: &source, requiresGrad: true, name: name)
}

/// Like `randomInput`, but every value at least `margin` away from each of `kinks`, so that
/// finite differences never straddle a point where the derivative jumps.
public func randomInputAwayFrom(_ kinks: [Float], margin: Float = 0.05, _ shape: [Int], seed: UInt64) -> Tensor {
    let tensor = randomInput(shape, seed: seed)
    for i in tensor.data.indices {
        for kink in kinks where Swift.abs(tensor.data[i] - kink) < margin {
            tensor.data[i] = kink + (tensor.data[i] >= kink ? margin : -margin)
        }
    }
    return tensor
}

extension Tensor {
    /// This tensor with `requiresGrad` set, for tests that build inputs from values.
    public func requiringGradient() -> Tensor {
        requiresGrad = true
        return self
    }
}
