import CBLAS
import CLAPACK

// The Fréchet distance between two Gaussians fitted to Inception features, as pytorch-fid's
// calculate_frechet_distance defines it (pytorch_fid/fid_score.py):
//   FID = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr √(Σ₁Σ₂),
// with μ the mean and Σ the unbiased covariance (np.cov, denominator N − 1), in float64.
// pytorch-fid takes √(Σ₁Σ₂) with scipy.linalg.sqrtm (a Schur method on a non-symmetric matrix)
// and retries with εI added to both covariances when that fails. Here the trace is computed
// from symmetric eigendecompositions instead, which stay accurate for singular and
// ill-conditioned covariances: with S = √Σ₁ (eigendecomposition, negative rounding clipped),
// Σ₁Σ₂ = S·(SΣ₂) has the eigenvalues of S Σ₂ S, which is symmetric positive semi-definite, so
// Tr √(Σ₁Σ₂) = Σᵢ √max(λᵢ(S Σ₂ S), 0).

/// The mean and covariance of a set of feature vectors, in float64.
public struct FeatureStatistics: Sendable {
    /// How many vectors the statistics come from.
    public let count: Int
    public let dimension: Int
    public let mean: [Double]
    /// dimension × dimension, symmetric, with denominator count − 1 (numpy's `np.cov`).
    public let covariance: [Double]

    /// The statistics of `features`: `count` vectors of `dimension` values, row-major.
    /// - Throws: ``EvaluationError/insufficientData(reason:)`` for fewer than two vectors.
    public init(features: [Float], dimension: Int) throws {
        guard dimension > 0, features.count % dimension == 0 else {
            throw EvaluationError.invalidInput(
                reason: "\(features.count) feature values are not whole vectors of \(dimension)")
        }
        let count = features.count / dimension
        guard count >= 2 else {
            throw EvaluationError.insufficientData(reason: "a covariance needs at least two images, got \(count)")
        }
        var mean = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            for column in 0..<dimension { mean[column] += Double(features[row * dimension + column]) }
        }
        mean = mean.map { $0 / Double(count) }
        var centred = [Double](repeating: 0, count: features.count)
        for row in 0..<count {
            for column in 0..<dimension {
                centred[row * dimension + column] = Double(features[row * dimension + column]) - mean[column]
            }
        }
        // Σ = Xcᵀ Xc / (N − 1), with Xc row-major count × dimension.
        var covariance = [Double](repeating: 0, count: dimension * dimension)
        cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(dimension), Int32(dimension), Int32(count),
            1 / Double(count - 1), centred, Int32(dimension), centred, Int32(dimension), 0, &covariance,
            Int32(dimension))
        self.init(count: count, mean: mean, covariance: covariance)
    }

    /// Statistics given directly (`covariance` row-major, `mean.count` squared values).
    public init(count: Int, mean: [Double], covariance: [Double]) {
        precondition(covariance.count == mean.count * mean.count, "covariance must be \(mean.count)²")
        (self.count, self.dimension, self.mean, self.covariance) = (count, mean.count, mean, covariance)
    }
}

public enum FrechetDistance {
    /// FID between two sets' statistics (see the file's comment for the formula).
    public static func distance(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> Double {
        guard a.dimension == b.dimension else {
            throw EvaluationError.invalidInput(reason: "statistics of \(a.dimension) and \(b.dimension) dimensions")
        }
        let n = a.dimension
        let meanTerm = zip(a.mean, b.mean).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let traces = (0..<n).reduce(0.0) { $0 + a.covariance[$1 * n + $1] + b.covariance[$1 * n + $1] }
        return meanTerm + traces - 2 * (try traceOfSquareRootOfProduct(a.covariance, b.covariance, dimension: n))
    }

    /// Tr √(AB) for symmetric positive semi-definite A and B (n × n): Σ √λᵢ(√A B √A).
    public static func traceOfSquareRootOfProduct(_ a: [Double], _ b: [Double], dimension n: Int) throws -> Double {
        let root = try symmetricSquareRoot(a, dimension: n)
        var product = [Double](repeating: 0, count: n * n), sandwich = product
        let size = Int32(n)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1, root, size, b, size, 0, &product, size)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1, product, size, root, size, 0, &sandwich,
            size)
        // Symmetrise away the rounding of the two products before the symmetric solver.
        for row in 0..<n {
            for column in row + 1..<n {
                let average = (sandwich[row * n + column] + sandwich[column * n + row]) / 2
                (sandwich[row * n + column], sandwich[column * n + row]) = (average, average)
            }
        }
        let (values, _) = try eigen(sandwich, dimension: n, vectors: false)
        return values.reduce(0.0) { $0 + max($1, 0).squareRoot() }
    }

    /// √A of a symmetric positive semi-definite A (n × n, row-major): V diag(√max(λ, 0)) Vᵀ.
    public static func symmetricSquareRoot(_ a: [Double], dimension n: Int) throws -> [Double] {
        let (values, vectors) = try eigen(a, dimension: n, vectors: true)
        // Column-major V: vectors[i + j·n] is component i of eigenvector j. Scale column j by √λⱼ.
        var scaled = vectors
        for j in 0..<n {
            let factor = max(values[j], 0).squareRoot()
            for i in 0..<n { scaled[i + j * n] *= factor }
        }
        var root = [Double](repeating: 0, count: n * n)
        let size = Int32(n)
        cblas_dgemm(
            CblasColMajor, CblasNoTrans, CblasTrans, size, size, size, 1, scaled, size, vectors, size, 0, &root, size)
        return root
    }

    /// Eigenvalues (ascending) and, when asked, column-major eigenvectors of symmetric `a`,
    /// by LAPACK's dsyevd.
    static func eigen(_ a: [Double], dimension n: Int, vectors: Bool) throws -> ([Double], [Double]) {
        guard n > 0, a.count == n * n else {
            throw EvaluationError.invalidInput(reason: "a \(n)×\(n) matrix needs \(n * n) values, got \(a.count)")
        }
        var matrix = a, values = [Double](repeating: 0, count: n)
        var job = CChar(UInt8(ascii: vectors ? "V" : "N")), upper = CChar(UInt8(ascii: "U"))
        var size = Int32(n), info: Int32 = 0
        var workSize: Double = 0, integerWorkSize: Int32 = 0, query: Int32 = -1
        dsyevd_(&job, &upper, &size, &matrix, &size, &values, &workSize, &query, &integerWorkSize, &query, &info)
        var lwork = Int32(workSize), liwork = integerWorkSize
        var work = [Double](repeating: 0, count: Int(lwork)), integerWork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&job, &upper, &size, &matrix, &size, &values, &work, &lwork, &integerWork, &liwork, &info)
        guard info == 0 else {
            throw EvaluationError.insufficientData(reason: "the eigensolver (LAPACK dsyevd) failed with info \(info)")
        }
        return (values, matrix)
    }
}
