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
    public func normalizedWeight(_ weight: Tensor, training: Bool) throws -> Tensor {
        let rows = u.count, columns = v.count
        guard weight.count == rows * columns, weight.shape.first == rows else {
            throw TensorError.shapeMismatch(
                operation: "SpectralNorm",
                reason: "weight \(weight.label) does not match u [\(rows)] and v [\(columns)]")
        }
        if training { powerIteration(weight.data, rows: rows, columns: columns) }
        // σ = uᵀ (W v), in Double.
        var sigmaDouble = 0.0
        let uValues = u.data, vValues = v.data  // local copies: no property access in the loops
        withReadPointer(weight.data) { wp in
            withReadPointer(vValues) { vp in
                for r in 0..<rows {
                    var dot = 0.0
                    for c in 0..<columns { dot += Double(wp[r * columns + c]) * Double(vp[c]) }
                    sigmaDouble += Double(uValues[r]) * dot
                }
            }
        }
        let sigma = Float(sigmaDouble)
        let inverseSigma = 1 / sigma
        let scaled = withReadPointer(weight.data) { wp in
            makeFilledArray(weight.count) { out in for i in 0..<weight.count { out[i] = wp[i] * inverseSigma } }
        }
        let output = Tensor(uncheckedShape: weight.shape, data: scaled)
        let weightData = weight.data, weightNode = weight.node
        Tensor.record(output, inputs: [weight]) { y in
            y.withOutputGradient { dy in
                withReadPointer(weightData) { wp in
                    var projection = 0.0
                    for i in 0..<weightData.count { projection += Double(dy[i]) * Double(wp[i]) }
                    let coefficient = Float(projection / (sigmaDouble * sigmaDouble))
                    weightNode.accumulateGradientPointer { dw in
                        for r in 0..<rows {
                            let rowCoefficient = coefficient * uValues[r]
                            for c in 0..<columns {
                                dw[r * columns + c] += dy[r * columns + c] * inverseSigma - rowCoefficient * vValues[c]
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// v = normalize(Wᵀu), then u = normalize(W v), stored in place.
    private func powerIteration(_ weight: [Float], rows: Int, columns: Int) {
        var newV = [Double](repeating: 0, count: columns)
        let oldU = u.data
        withReadPointer(weight) { wp in
            newV.withUnsafeMutableBufferPointer { newV in
                for r in 0..<rows {
                    let ur = Double(oldU[r])
                    for c in 0..<columns { newV[c] += Double(wp[r * columns + c]) * ur }
                }
            }
        }
        let vValues = normalize(newV.map { Float($0) }, epsilon: epsilon)
        v.data = vValues
        var newU = [Float](repeating: 0, count: rows)
        withReadPointer(weight) { wp in
            withReadPointer(vValues) { vp in
                for r in 0..<rows {
                    var dot = 0.0
                    for c in 0..<columns { dot += Double(wp[r * columns + c]) * Double(vp[c]) }
                    newU[r] = Float(dot)
                }
            }
        }
        u.data = normalize(newU, epsilon: epsilon)
    }
}

/// x / max(‖x‖₂, ε), as `torch.nn.functional.normalize(x, dim=0, eps=ε)`.
private func normalize(_ values: [Float], epsilon: Float) -> [Float] {
    let norm = Float(values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    let divisor = max(norm, epsilon)
    return values.map { $0 / divisor }
}
