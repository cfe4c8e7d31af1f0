// Spectral normalisation of a weight, as PyTorch's `torch.nn.utils.spectral_norm` (the
// hook-based version SPADE and SMIS use).

/// The persistent state of one spectrally normalised weight: the power-iteration vectors
/// `u` (`weight_u`, length Cout) and `v` (`weight_v`, length Cin/G·KH·KW).
///
/// The weight is viewed as the matrix W (Cout × rest). In training, each forward runs one
/// power iteration, `v = normalize(Wᵀu)`, `u = normalize(W v)` (normalize(x) = x / max(‖x‖, ε)),
/// and stores u and v; evaluation uses the stored ones unchanged. Then σ = uᵀ W v and the
/// result is W / σ. As in PyTorch, u and v are constants for the backward pass:
/// dW = dŴ/σ − (Σ dŴ ⊙ W)/σ² · u vᵀ.
public final class SpectralNorm {
    /// The left singular vector estimate (`weight_u`).
    public let u: Tensor
    /// The right singular vector estimate (`weight_v`).
    public let v: Tensor
    /// The floor of the norm in `normalize` (PyTorch's default 1e-12).
    public let epsilon: Float

    /// Starts u and v as normalised Gaussian vectors for a weight of `weightShape`, as PyTorch
    /// does at registration (u is drawn first, then v).
    public init(weightShape: [Int], using source: inout RandomSource, epsilon: Float = 1e-12) throws {
        guard weightShape.count >= 2, weightShape.allSatisfy({ $0 > 0 }) else {
            throw TensorError.invalidArgument(
                operation: "SpectralNorm", reason: "weight shape \(weightShape) must have at least two positive axes")
        }
        let rows = weightShape[0], columns = weightShape.dropFirst().reduce(1, *)
        self.epsilon = epsilon
        u = Tensor(uncheckedShape: [rows], data: normalize(source.normals(rows), epsilon: epsilon), name: "weight_u")
        v = Tensor(
            uncheckedShape: [columns], data: normalize(source.normals(columns), epsilon: epsilon), name: "weight_v")
    }

    /// W / σ(W) for `weight` (the `weight_orig` parameter), with one power iteration first when
    /// `training`. The iteration runs even when gradients are off, as in PyTorch.
    ///
    /// Every pass over W (about 100 M values in GroupDNet's generator, four passes forward and two
    /// backward) is split over the threads by rows or by columns, so that each value is computed by
    /// the same operations in the same order whatever the thread count: the result does not depend
    /// on it.
    public func normalizedWeight(_ weight: Tensor, training: Bool) throws -> Tensor {
        let rows = u.count, columns = v.count
        guard weight.count == rows * columns, weight.shape.first == rows else {
            throw TensorError.shapeMismatch(
                operation: "SpectralNorm",
                reason: "weight \(weight.label) does not match u [\(rows)] and v [\(columns)]")
        }
        // σ = uᵀ (W v), in Double. Training takes W v from the power iteration, which has just
        // computed it with the same v (the same sums as recomputing it here).
        let weightTimesV =
            training
            ? powerIteration(weight.data, rows: rows, columns: columns)
            : matrixTimesVector(weight.data, v.data, rows: rows, columns: columns)
        let uValues = u.data, vValues = v.data  // local copies: no property access in the loops
        var sigmaDouble = 0.0
        for r in 0..<rows { sigmaDouble += Double(uValues[r]) * weightTimesV[r] }
        let sigma = Float(sigmaDouble)
        let inverseSigma = 1 / sigma
        let scaled = withReadPointer(weight.data) { wp in
            makeFilledArray(weight.count) { out in
                elementwiseChunks(weight.count) { range in for i in range { out[i] = wp[i] * inverseSigma } }
            }
        }
        let output = Tensor(uncheckedShape: weight.shape, data: scaled)
        let weightData = weight.data, weightNode = weight.node
        Tensor.record(output, inputs: [weight]) { y in
            y.withOutputGradient { dy in
                withReadPointer(weightData) { wp in
                    // Σ dŴ ⊙ W, row by row, then the rows in order.
                    var rowProducts = [Double](repeating: 0, count: rows)
                    rowProducts.withUnsafeMutableBufferPointer { products in
                        parallelChunks(rows, minimumPerThread: rowsPerTask(columns)) { range in
                            for r in range { products[r] = doubleDot(dy + r * columns, wp + r * columns, columns) }
                        }
                    }
                    let projection = rowProducts.reduce(0, +)
                    let coefficient = Float(projection / (sigmaDouble * sigmaDouble))
                    weightNode.accumulateGradientPointer { dw in
                        parallelChunks(rows, minimumPerThread: rowsPerTask(columns)) { range in
                            for r in range {
                                let rowCoefficient = coefficient * uValues[r]
                                let (dyRow, dwRow) = (dy + r * columns, dw + r * columns)
                                for c in 0..<columns {
                                    dwRow[c] += dyRow[c] * inverseSigma - rowCoefficient * vValues[c]
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// v = normalize(Wᵀu), then u = normalize(W v), stored in place; returns W v (before its
    /// normalisation) in Double.
    private func powerIteration(_ weight: [Float], rows: Int, columns: Int) -> [Double] {
        var newV = [Double](repeating: 0, count: columns)
        let oldU = u.data
        withReadPointer(weight) { wp in
            newV.withUnsafeMutableBufferPointer { newV in
                // By columns: each thread adds every row's share of its own columns, in row order.
                parallelChunks(columns, minimumPerThread: 256) { range in
                    for r in 0..<rows {
                        let ur = Double(oldU[r])
                        let row = wp + r * columns
                        for c in range { newV[c] += Double(row[c]) * ur }
                    }
                }
            }
        }
        let vValues = normalize(newV.map { Float($0) }, epsilon: epsilon)
        v.data = vValues
        let weightTimesV = matrixTimesVector(weight, vValues, rows: rows, columns: columns)
        u.data = normalize(weightTimesV.map { Float($0) }, epsilon: epsilon)
        return weightTimesV
    }
}

/// W x for a rows × columns W, each row's dot product in Double (rows split over the threads).
private func matrixTimesVector(_ weight: [Float], _ x: [Float], rows: Int, columns: Int) -> [Double] {
    var result = [Double](repeating: 0, count: rows)
    withReadPointer(weight) { wp in
        withReadPointer(x) { xp in
            result.withUnsafeMutableBufferPointer { out in
                parallelChunks(rows, minimumPerThread: rowsPerTask(columns)) { range in
                    for r in range { out[r] = doubleDot(wp + r * columns, xp, columns) }
                }
            }
        }
    }
    return result
}

/// Rows per thread at least: a task of fewer than about 64 K values costs more to hand out than to do.
private func rowsPerTask(_ columns: Int) -> Int { max(1, (1 << 16) / max(1, columns)) }

/// Σ a[i]·b[i] with every product and sum in Double, in eight lanes (i mod 8) added at the end:
/// as exact as a sequential Double sum for these lengths, without its chain of dependent additions.
@inline(__always)
private func doubleDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Double {
    var lanes = SIMD8<Double>(), i = 0
    while i + 8 <= count {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        lanes += SIMD8<Double>(x) * SIMD8<Double>(y)
        i += 8
    }
    var total = lanes.sum()
    while i < count { total += Double(a[i]) * Double(b[i]); i += 1 }
    return total
}

/// x / max(‖x‖₂, ε), as `torch.nn.functional.normalize(x, dim=0, eps=ε)`.
private func normalize(_ values: [Float], epsilon: Float) -> [Float] {
    let norm = Float(values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    let divisor = max(norm, epsilon)
    return values.map { $0 / divisor }
}
