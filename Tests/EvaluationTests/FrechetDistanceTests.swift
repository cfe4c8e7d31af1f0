import Foundation
import GroupDNet
import Tensor
import XCTest
import _TestSupport

@testable import Evaluation

/// The Fréchet distance in float64: known answers, and pytorch-fid's and scipy's values
/// (Fixtures/make_frechet_reference.py) on well- and ill-conditioned covariances.
final class FrechetDistanceTests: TemporaryFolderTestCase {
    func testMatchesPytorchFIDAndScipy() throws {
        _ = try ReferencePython.run("make_frechet_reference.py", arguments: [folder.path], requiring: "pytorch_fid")
        let reference = try SafeTensors.read(from: folder.appendingPathComponent("frechet.safetensors"))
        let a = try FeatureStatistics(features: reference.floats("well.a"), dimension: 32)
        let b = try FeatureStatistics(features: reference.floats("well.b"), dimension: 32)
        let expected = try reference.doubles("fid.well")[0]
        XCTAssertEqual(try FrechetDistance.distance(a, b), expected, accuracy: 1e-9 * expected)

        let (sigma1, sigma2) = (try reference.doubles("ill.sigma1"), try reference.doubles("ill.sigma2"))
        let root = try FrechetDistance.symmetricSquareRoot(sigma1, dimension: 24)
        let scipyRoot = try reference.doubles("sqrtm.sigma1")
        let worst = zip(root, scipyRoot).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-7, "√Σ₁ against scipy.linalg.sqrtm (largest entry about 1)")
        let trace = try FrechetDistance.traceOfSquareRootOfProduct(sigma1, sigma2, dimension: 24)
        XCTAssertEqual(trace, try reference.doubles("trace.product")[0], accuracy: 1e-6)
        let zero = [Double](repeating: 0, count: 24)
        let ill = try FrechetDistance.distance(
            FeatureStatistics(count: 2, mean: zero, covariance: sigma1),
            FeatureStatistics(count: 2, mean: zero, covariance: sigma2))
        let expectedIll = try reference.doubles("fid.ill")[0]
        XCTAssertEqual(ill, expectedIll, accuracy: 1e-3 * expectedIll)
    }

    /// Commuting covariances Q diag(a) Qᵀ and Q diag(b) Qᵀ: Tr √(Σ₁Σ₂) = Σ √(aᵢbᵢ) exactly,
    /// here with eigenvalues from 1 down to 1e-14 and zeros, where a Schur-based sqrtm of the
    /// product loses digits.
    func testTraceOfSquareRootOnIllConditionedCommutingCovariances() throws {
        let n = 40
        let q = try orthogonalMatrix(n)
        let a = (0..<n).map { $0 == n - 1 ? 0 : pow(10, -14 * Double($0) / Double(n - 2)) }
        let b = (0..<n).map { $0 % 3 == 0 ? 0 : 2 + sin(Double($0)) }
        let exact = zip(a, b).reduce(0.0) { $0 + ($1.0 * $1.1).squareRoot() }
        let trace = try FrechetDistance.traceOfSquareRootOfProduct(
            conjugated(q, a, n), conjugated(q, b, n), dimension: n)
        XCTAssertEqual(trace, exact, accuracy: 1e-7)
        // Identical statistics are at distance 0; shifting the mean by d adds ‖d‖².
        let sigma = conjugated(q, a, n), mean = (0..<n).map { Double($0) / 10 }
        let same = FeatureStatistics(count: 5, mean: mean, covariance: sigma)
        XCTAssertEqual(try FrechetDistance.distance(same, same), 0, accuracy: 1e-7)
        let shifted = FeatureStatistics(count: 5, mean: mean.map { $0 + 0.5 }, covariance: sigma)
        XCTAssertEqual(try FrechetDistance.distance(same, shifted), 0.25 * Double(n), accuracy: 1e-7)
    }

    func testStatisticsAreNumpysMeanAndUnbiasedCovariance() throws {
        let statistics = try FeatureStatistics(features: [1, 2, 3, 6, 5, 10], dimension: 2)
        XCTAssertEqual(statistics.mean, [3, 6])
        XCTAssertEqual(statistics.covariance, [4, 8, 8, 16])
        XCTAssertThrowsError(try FeatureStatistics(features: [1, 2], dimension: 2)) { error in
            XCTAssertEqual(
                error as? EvaluationError, .insufficientData(reason: "a covariance needs at least two images, got 1"))
        }
    }

    /// A random orthogonal matrix: the eigenvectors of a random symmetric one.
    private func orthogonalMatrix(_ n: Int) throws -> [Double] {
        var generator = RandomSource(seed: 11)
        var symmetric = [Double](repeating: 0, count: n * n)
        for row in 0..<n {
            for column in row..<n {
                let value = Double.random(in: -1...1, using: &generator)
                (symmetric[row * n + column], symmetric[column * n + row]) = (value, value)
            }
        }
        return try FrechetDistance.eigen(symmetric, dimension: n, vectors: true).1
    }

    /// Q diag(values) Qᵀ for column-major Q.
    private func conjugated(_ q: [Double], _ values: [Double], _ n: Int) -> [Double] {
        var result = [Double](repeating: 0, count: n * n)
        for row in 0..<n {
            for column in 0..<n {
                var total = 0.0
                for k in 0..<n { total += q[row + k * n] * values[k] * q[column + k * n] }
                result[row * n + column] = total
            }
        }
        return result
    }
}
