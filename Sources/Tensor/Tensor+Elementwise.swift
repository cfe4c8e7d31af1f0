import Foundation

// Element-wise primitives. Forward and backward sit together; backward accumulates (+=).
// x, y: input and output of the same shape; dy: gradient of y; dx: gradient of x.

extension Tensor {
    // MARK: Unary with a derivative from (x, y)

    /// Applies `forward` to each element; the backward multiplies dy by `derivative(x, y)`.
    private func mapped(_ forward: @escaping (Float) -> Float,
                        derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let x = self
        let output = Tensor(uncheckedShape: shape, data: withReadPointer(data) { xp in
            makeFilledArray(count) { yp in
                elementwiseChunks(count) { range in for i in range { yp[i] = forward(xp[i]) } }
            }
        })
        Tensor.record(output, inputs: [x]) { y in
            withReadPointer(x.data) { xp in withReadPointer(y.data) { yp in y.withOutputGradient { dy in
                x.accumulateGradientPointer { dx in
                    elementwiseChunks(x.count) { range in
                        for i in range { dx[i] += dy[i] * derivative(xp[i], yp[i]) }
                    }
                }
            } } }
        }
        return output
    }

    /// max(x, 0). The gradient is 1 where x > 0 and 0 elsewhere (0 at x = 0, as PyTorch).
    public func relu() -> Tensor {
        mapped({ max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
    }

    /// x where x > 0, else `negativeSlope`·x (GroupDNet uses 0.2). The gradient at 0 is the slope.
    public func leakyRelu(negativeSlope: Float = 0.2) -> Tensor {
        mapped({ $0 > 0 ? $0 : $0 * negativeSlope }, derivative: { x, _ in x > 0 ? 1 : negativeSlope })
    }

    /// The hyperbolic tangent; the gradient is 1 − y².
    public func tanh() -> Tensor {
        mapped({ Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
    }

    /// eˣ; the gradient is the output itself. Overflows to +∞ above about 88.7.
    public func exp() -> Tensor {
        mapped({ Foundation.exp($0) }, derivative: { _, y in y })
    }

    /// x·s for a constant s.
    public func scaled(by factor: Float) -> Tensor {
        mapped({ $0 * factor }, derivative: { _, _ in factor })
    }

    /// x + s for a constant s.
    public func adding(_ constant: Float) -> Tensor {
        mapped({ $0 + constant }, derivative: { _, _ in 1 })
    }

    /// The absolute value; the gradient is sign(x), 0 at x = 0 (as PyTorch).
    public func abs() -> Tensor {
        mapped({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
    }

    // MARK: Binary, same shape

    /// Combines two same-shaped tensors element by element; the backward adds
    /// dy·∂f/∂a to da and dy·∂f/∂b to db.
    private static func zipped(_ a: Tensor, _ b: Tensor, _ operation: String,
                               _ forward: @escaping (Float, Float) -> Float,
                               partialA: @escaping (Float, Float) -> Float,
                               partialB: @escaping (Float, Float) -> Float) throws -> Tensor {
        try checkSameShape(a, b, operation)
        let count = a.count
        let output = Tensor(uncheckedShape: a.shape, data: withReadPointer(a.data) { ap in
            withReadPointer(b.data) { bp in
                makeFilledArray(count) { yp in
                    elementwiseChunks(count) { range in for i in range { yp[i] = forward(ap[i], bp[i]) } }
                }
            }
        })
        record(output, inputs: [a, b]) { y in
            withReadPointer(a.data) { ap in withReadPointer(b.data) { bp in y.withOutputGradient { dy in
                a.accumulateGradientPointer { da in
                    elementwiseChunks(count) { range in for i in range { da[i] += dy[i] * partialA(ap[i], bp[i]) } }
                }
                b.accumulateGradientPointer { db in
                    elementwiseChunks(count) { range in for i in range { db[i] += dy[i] * partialB(ap[i], bp[i]) } }
                }
            } } }
        }
        return output
    }

    /// a + b, element-wise; shapes must match exactly (no broadcasting).
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try zipped(a, b, "add", { $0 + $1 }, partialA: { _, _ in 1 }, partialB: { _, _ in 1 })
    }

    /// a − b, element-wise; shapes must match exactly.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try zipped(a, b, "subtract", { $0 - $1 }, partialA: { _, _ in 1 }, partialB: { _, _ in -1 })
    }

    /// a · b, element-wise; shapes must match exactly.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try zipped(a, b, "multiply", { $0 * $1 }, partialA: { _, b in b }, partialB: { a, _ in a })
    }

    /// −x.
    public static prefix func - (x: Tensor) -> Tensor { x.scaled(by: -1) }
}
