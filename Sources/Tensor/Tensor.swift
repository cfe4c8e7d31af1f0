// The Tensor target: Float32 NCHW tensors, operations with their gradients, reverse-mode
// autodiff on a tape, optimisers and initialisers. See Tensor.docc/Tensor.md for the design.

/// A dense Float32 tensor, row-major, with image tensors laid out NCHW
/// (N = batch, C = channels, H = height, W = width).
///
/// A tensor is a reference type: operations return new tensors and record, when gradients
/// are enabled and an input requires them, how to push the output's gradient back to the
/// inputs (see ``backward()``). Leaf tensors that require gradients (parameters) accumulate
/// into ``grad`` until ``zeroGradient()``.
public final class Tensor {
    /// The extent of each axis, outermost first. `[]` is a scalar with one element.
    public let shape: [Int]
    /// The values in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]
    /// A name for error messages and parameter lists (e.g. `head_0.conv_0.weight_orig`).
    public var name: String
    /// The gradient side: the gradient, and for a computed tensor the recorded step behind it.
    /// The graph links these nodes, not tensors, so it keeps alive only the values its
    /// backward steps captured (see ``GradientNode``).
    let node: GradientNode

    /// The accumulated gradient of the last ``backward()`` with respect to this tensor, in the
    /// same layout as `data`; `nil` until a backward pass reaches it. Freed on intermediate
    /// (non-leaf) tensors once used, as PyTorch does.
    public var grad: [Float]? {
        get { node.grad }
        set { node.grad = newValue }
    }

    /// Whether gradients flow to this tensor. Set it on parameters and on inputs you want a
    /// gradient for; operation outputs get it from their inputs.
    public var requiresGrad: Bool {
        get { node.requiresGrad }
        set { node.requiresGrad = newValue }
    }

    /// Makes a tensor from values; throws when `data.count` does not match the shape.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false, name: String = "") throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument(operation: "Tensor.init", reason: "negative extent in shape \(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == data.count else {
            throw TensorError.invalidArgument(
                operation: "Tensor.init",
                reason: "shape \(shape) needs \(count) values but \(data.count) were given")
        }
        self.shape = shape
        self.data = data
        self.name = name
        node = GradientNode(count: count, requiresGrad: requiresGrad)
        node.owner = self
    }

    /// Makes a tensor without checking; `data.count` must equal the product of `shape`.
    init(uncheckedShape shape: [Int], data: [Float], requiresGrad: Bool = false, name: String = "") {
        self.shape = shape
        self.data = data
        self.name = name
        node = GradientNode(count: data.count, requiresGrad: requiresGrad)
        node.owner = self
    }

    /// A tensor filled with one value.
    public convenience init(shape: [Int], repeating value: Float, requiresGrad: Bool = false, name: String = "") {
        self.init(uncheckedShape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)),
                  requiresGrad: requiresGrad, name: name)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false, name: String = "") -> Tensor {
        Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad, name: name)
    }

    /// A scalar tensor (shape `[]`).
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(uncheckedShape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    /// The number of elements.
    public var count: Int { data.count }
    /// The number of axes.
    public var rank: Int { shape.count }
    /// The only value of a one-element tensor (a loss); the first value otherwise.
    public var scalarValue: Float { data[0] }

    /// Clears the accumulated gradient (sets it to `nil`).
    public func zeroGradient() { grad = nil }

    /// A new leaf tensor with the same values and no graph: the result of `detach()` in
    /// PyTorch, except that the values are copied (Swift arrays are values).
    public func detached() -> Tensor {
        Tensor(uncheckedShape: shape, data: data, requiresGrad: false, name: name)
    }

    /// A description for error messages: the name if any, then the shape.
    var label: String { name.isEmpty ? "\(shape)" : "\(name) \(shape)" }
}

// MARK: - Shape checks shared by the operations

extension Tensor {
    /// Checks that the tensor is 4-D (NCHW) and returns its extents.
    func nchw(_ operation: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
        guard rank == 4 else {
            throw TensorError.shapeMismatch(operation: operation, reason: "expected an N×C×H×W tensor, got \(label)")
        }
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// Checks that two tensors have identical shapes.
    static func checkSameShape(_ a: Tensor, _ b: Tensor, _ operation: String) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(operation: operation, reason: "shapes differ: \(a.label) and \(b.label)")
        }
    }
}
