import Foundation

// Element-wise primitives. Forward and backward sit together; backward accumulates (+=).
// x, y: input and output of the same shape; dy: gradient of y; dx: gradient of x.

extension Tensor {
    // MARK: Unary with a derivative from (x, y)

    /// Applies `kernel.value` to each element; the backward multiplies dy by
    /// `kernel.derivative(x, y)`. Generic over the kernel type so that each use is specialised
    /// and the per-element calls inline into plain, vectorisable loops. The backward step keeps
    /// x and y only when the kernel's derivative reads them (``UnaryKernel/reads``).
    private func mapped<Kernel: UnaryKernel>(_ kernel: Kernel) -> Tensor {
        let output = Tensor(
            uncheckedShape: shape,
            data: withReadPointer(data) { xp in
                makeFilledArray(count) { yp in
                    elementwiseChunks(count) { range in for i in range { yp[i] = kernel.value(xp[i]) } }
                }
            })
        let xData = Kernel.reads.contains(.input) ? data : [], yData = Kernel.reads.contains(.output) ? output.data : []
        let xNode = node, elementCount = count
        Tensor.record(output, inputs: [self]) { y in
            withReadPointer(xData) { xp in
                withReadPointer(yData) { yp in
                    let moved = y.moveGradient(to: xNode) { dy in
                        elementwiseChunks(elementCount) { range in
                            for i in range {
                                let x = Kernel.reads.contains(.input) ? xp[i] : 0
                                let y = Kernel.reads.contains(.output) ? yp[i] : 0
                                dy[i] *= kernel.derivative(x, y)
                            }
                        }
                    }
                    if moved { return }
                    y.withOutputGradient { dy in
                        xNode.accumulateGradientPointer { dx in
                            elementwiseChunks(elementCount) { range in
                                for i in range {
                                    let x = Kernel.reads.contains(.input) ? xp[i] : 0
                                    let y = Kernel.reads.contains(.output) ? yp[i] : 0
                                    dx[i] += dy[i] * kernel.derivative(x, y)
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// max(x, 0). The gradient is 1 where x > 0 and 0 elsewhere (0 at x = 0, as PyTorch).
    public func relu() -> Tensor { mapped(LeakyReluKernel(slope: 0)) }

    /// x where x > 0, else `negativeSlope`·x (GroupDNet uses 0.2). The gradient at 0 is the slope.
    public func leakyRelu(negativeSlope: Float = 0.2) -> Tensor {
        precondition(
            negativeSlope >= 0, "leakyRelu's slope must not be negative (its backward reads the output's sign)")
        return mapped(LeakyReluKernel(slope: negativeSlope))
    }

    /// The hyperbolic tangent; the gradient is 1 − y².
    public func tanh() -> Tensor { mapped(TanhKernel()) }

    /// eˣ; the gradient is the output itself. Overflows to +∞ above about 88.7.
    public func exp() -> Tensor { mapped(ExpKernel()) }

    /// x·s + t for constants s and t (`scaled(by:)` and `adding(_:)`).
    public func affine(scale: Float, shift: Float) -> Tensor { mapped(AffineKernel(scale: scale, shift: shift)) }

    /// x·s for a constant s.
    public func scaled(by factor: Float) -> Tensor { affine(scale: factor, shift: 0) }

    /// x + s for a constant s.
    public func adding(_ constant: Float) -> Tensor { affine(scale: 1, shift: constant) }

    /// The absolute value; the gradient is sign(x), 0 at x = 0 (as PyTorch).
    public func abs() -> Tensor { mapped(AbsKernel()) }

    // MARK: Binary, same shape

    /// Combines two same-shaped tensors element by element; the backward adds
    /// dy·∂f/∂a to da and dy·∂f/∂b to db.
    private static func zipped<Kernel: BinaryKernel>(_ a: Tensor, _ b: Tensor, _ kernel: Kernel) throws -> Tensor {
        try checkSameShape(a, b, Kernel.name)
        let count = a.count
        let output = Tensor(
            uncheckedShape: a.shape,
            data: withReadPointer(a.data) { ap in
                withReadPointer(b.data) { bp in
                    makeFilledArray(count) { yp in
                        elementwiseChunks(count) { range in for i in range { yp[i] = kernel.value(ap[i], bp[i]) } }
                    }
                }
            })
        // Both factors of a product are kept for its backward step; a sum keeps neither.
        let aData = Kernel.readsInputs ? a.data : [], bData = Kernel.readsInputs ? b.data : []
        let aNode = a.node, bNode = b.node
        record(output, inputs: [a, b]) { y in
            // A partial derivative of exactly 1 passes dy through: shared, not copied, when
            // the input has no gradient yet (copy-on-write separates them if it is added to).
            let passedToA = Kernel.partialAIsOne && aNode.takeGradientIfNone(y.grad!)
            let passedToB = Kernel.partialBIsOne && bNode.takeGradientIfNone(y.grad!)
            // One partial that is not 1 may be computed in dy's own buffer, after the other
            // has read dy (see GradientNode.moveGradient).
            let aInPlace = !passedToA && y.canMoveGradient(to: aNode) && aNode !== bNode
            let bInPlace = !aInPlace && !passedToB && y.canMoveGradient(to: bNode) && aNode !== bNode
            withReadPointer(aData) { ap in
                withReadPointer(bData) { bp in
                    y.withOutputGradient { dy in
                        if !passedToA && !aInPlace {
                            aNode.accumulateGradientPointer { da in
                                elementwiseChunks(count) { range in
                                    for i in range {
                                        da[i] +=
                                            dy[i]
                                            * kernel.partialA(
                                                Kernel.readsInputs ? ap[i] : 0, Kernel.readsInputs ? bp[i] : 0)
                                    }
                                }
                            }
                        }
                        if !passedToB && !bInPlace {
                            bNode.accumulateGradientPointer { db in
                                elementwiseChunks(count) { range in
                                    for i in range {
                                        db[i] +=
                                            dy[i]
                                            * kernel.partialB(
                                                Kernel.readsInputs ? ap[i] : 0, Kernel.readsInputs ? bp[i] : 0)
                                    }
                                }
                            }
                        }
                    }
                    let (node, inPlace) = aInPlace ? (aNode, true) : (bNode, bInPlace)
                    guard inPlace else { return }
                    _ = y.moveGradient(to: node) { dy in
                        elementwiseChunks(count) { range in
                            for i in range {
                                let (a, b) = Kernel.readsInputs ? (ap[i], bp[i]) : (0, 0)
                                dy[i] *= aInPlace ? kernel.partialA(a, b) : kernel.partialB(a, b)
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// a + b, element-wise; shapes must match exactly (no broadcasting).
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try zipped(a, b, AddKernel()) }

    /// a − b, element-wise; shapes must match exactly.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try zipped(a, b, SubtractKernel()) }

    /// a · b, element-wise; shapes must match exactly.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try zipped(a, b, MultiplyKernel()) }

    /// −x.
    public static prefix func - (x: Tensor) -> Tensor { x.scaled(by: -1) }
}

// MARK: - Kernels: value and derivative of each element-wise primitive

/// The values a derivative reads: what a backward step must keep.
struct KernelReads: OptionSet {
    let rawValue: Int
    static let input = KernelReads(rawValue: 1)
    static let output = KernelReads(rawValue: 2)
}

protocol UnaryKernel {
    /// Which of x and y `derivative` reads; the other is passed as 0.
    static var reads: KernelReads { get }
    func value(_ x: Float) -> Float
    /// dy/dx given the input x and the output y.
    func derivative(_ x: Float, _ y: Float) -> Float
}

struct LeakyReluKernel: UnaryKernel {
    /// The output: y > 0 exactly where x > 0 (for a slope ≥ 0), and the convolution after an
    /// activation keeps y anyway, so x can be freed.
    static let reads: KernelReads = .output
    let slope: Float
    @inline(__always) func value(_ x: Float) -> Float { x > 0 ? x : x * slope }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y > 0 ? 1 : slope }
}

struct TanhKernel: UnaryKernel {
    static let reads: KernelReads = .output
    @inline(__always) func value(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

struct ExpKernel: UnaryKernel {
    static let reads: KernelReads = .output
    @inline(__always) func value(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct AffineKernel: UnaryKernel {
    static let reads: KernelReads = []
    let scale: Float, shift: Float
    @inline(__always) func value(_ x: Float) -> Float { x * scale + shift }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { scale }
}

struct AbsKernel: UnaryKernel {
    static let reads: KernelReads = .input
    @inline(__always) func value(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

protocol BinaryKernel {
    static var name: String { get }
    /// Whether the partial derivatives read a and b (else they are passed as 0).
    static var readsInputs: Bool { get }
    /// Whether ∂f/∂a (∂f/∂b) is exactly 1 everywhere, so dy passes through unchanged.
    static var partialAIsOne: Bool { get }
    static var partialBIsOne: Bool { get }
    func value(_ a: Float, _ b: Float) -> Float
    func partialA(_ a: Float, _ b: Float) -> Float
    func partialB(_ a: Float, _ b: Float) -> Float
}

struct AddKernel: BinaryKernel {
    static let name = "add"
    static let readsInputs = false
    static let partialAIsOne = true, partialBIsOne = true
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) func partialA(_ a: Float, _ b: Float) -> Float { 1 }
    @inline(__always) func partialB(_ a: Float, _ b: Float) -> Float { 1 }
}

struct SubtractKernel: BinaryKernel {
    static let name = "subtract"
    static let readsInputs = false
    static let partialAIsOne = true, partialBIsOne = false
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) func partialA(_ a: Float, _ b: Float) -> Float { 1 }
    @inline(__always) func partialB(_ a: Float, _ b: Float) -> Float { -1 }
}

struct MultiplyKernel: BinaryKernel {
    static let name = "multiply"
    static let readsInputs = true
    static let partialAIsOne = false, partialBIsOne = false
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) func partialA(_ a: Float, _ b: Float) -> Float { b }
    @inline(__always) func partialB(_ a: Float, _ b: Float) -> Float { a }
}
