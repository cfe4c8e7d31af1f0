// Reverse-mode autodiff on a tape: every operation that runs with gradients enabled records,
// on its output's gradient node, its inputs' nodes and a closure that turns the output's
// gradient into input gradients. backward() visits the recorded nodes in reverse topological
// order.
//
// The nodes, not the tensors, form the graph. A closure captures the values its backward step
// needs (a convolution its input and weight, a product both factors, a sum nothing), so an
// intermediate tensor whose values no step needs is freed as soon as the forward code lets go
// of it, as in PyTorch, instead of living until the backward pass reaches it.

/// Whether operations record the graph. Process-wide, like PyTorch's grad mode; the trainer
/// toggles it from one thread, so it is not synchronised.
nonisolated(unsafe) private var gradientRecordingEnabled = true

/// The gradient side of a tensor: its accumulated gradient and, for a computed tensor, the
/// recorded step that pushes that gradient into its inputs' nodes.
final class GradientNode {
    /// Elements of the tensor (and of its gradient).
    let count: Int
    var requiresGrad: Bool
    /// See ``Tensor/grad``.
    var grad: [Float]?
    /// The nodes of the inputs this tensor was computed from, kept only while a graph is recorded.
    var parents: [GradientNode] = []
    /// Pushes `grad` into the parents' gradients; nil for leaves and no-grad results.
    var backwardStep: ((GradientNode) -> Void)?
    /// The tensor this node belongs to, for handing finished leaves (parameters) to the caller
    /// of `backward`. Weak: the tensor owns the node.
    weak var owner: Tensor?

    init(count: Int, requiresGrad: Bool) {
        self.count = count
        self.requiresGrad = requiresGrad
    }

    /// Adds `body`'s contribution to the gradient, allocating zeros the first time. Does
    /// nothing when the tensor does not require a gradient.
    func accumulateGradient(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if grad == nil { grad = makeZeroedArray(count) }
        grad!.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Sets the gradient to `gradient` (sharing its storage) when a gradient is required and
    /// none is there yet; returns whether it did. For operations whose local derivative is 1.
    func takeGradientIfNone(_ gradient: [Float]) -> Bool {
        guard requiresGrad, grad == nil else { return false }
        grad = gradient
        return true
    }

    /// Whether `input` can be handed this node's gradient buffer (see ``moveGradient(to:_:)``):
    /// it needs a gradient and has none yet.
    func canMoveGradient(to input: GradientNode) -> Bool {
        input !== self && input.requiresGrad && input.grad == nil
    }

    /// Turns this node's gradient, in its own buffer, into `input`'s first gradient: `transform`
    /// rewrites each dy as the input's dx, then the buffer becomes `input.grad` and this node
    /// keeps none. The backward pass frees an intermediate gradient right after its step, so
    /// this saves an allocation and a pass over memory: at the generator's full-size layers,
    /// one fewer gradient of up to 84 MB per sample alive at the peak. Returns false, doing
    /// nothing, unless ``canMoveGradient(to:)``; the step then accumulates as usual. Must be the
    /// step's last use of this node's gradient.
    func moveGradient(to input: GradientNode, _ transform: (UnsafeMutablePointer<Float>) -> Void) -> Bool {
        guard canMoveGradient(to: input), var gradient = grad else { return false }
        grad = nil  // `gradient` is now the only reference: written in place, not copied
        withWritePointer(&gradient, transform)
        input.grad = gradient
        return true
    }
}

extension Tensor {
    /// Whether operations currently record gradients (false inside ``withoutGradients(_:)``).
    public static var isRecordingGradients: Bool { gradientRecordingEnabled }

    /// Runs `body` with gradient recording off (PyTorch's `torch.no_grad()`), restoring the
    /// previous mode afterwards even if `body` throws. Results computed inside are leaves
    /// with `requiresGrad == false`; batch norm and spectral norm still update their state.
    public static func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        let previous = gradientRecordingEnabled
        gradientRecordingEnabled = false
        defer { gradientRecordingEnabled = previous }
        return try body()
    }

    /// Makes `output` a node of the graph when recording and some input requires a gradient.
    /// `step` receives the output's node (whose `grad` is set) and accumulates into the
    /// inputs' nodes; it should capture only the values it needs (see the top of this file).
    static func record(_ output: Tensor, inputs: [Tensor], step: @escaping (GradientNode) -> Void) {
        guard gradientRecordingEnabled, inputs.contains(where: { $0.requiresGrad }) else { return }
        output.requiresGrad = true
        output.node.parents = inputs.map(\.node)
        output.node.backwardStep = step
    }

    /// Computes the gradient of this one-element tensor (a loss) with respect to every tensor
    /// it was computed from that requires gradients, accumulating into their ``grad``.
    ///
    /// The graph is released afterwards (intermediate gradients and closures are dropped), so
    /// call it once per forward pass. Throws if the tensor has more than one element or was
    /// not computed with gradients recorded.
    ///
    /// - Parameter ready: called, during the pass, with each leaf that requires a gradient
    ///   (a parameter) as soon as its gradient is final: once every recorded operation that used
    ///   it has run its backward step. Data-parallel training starts averaging a parameter's
    ///   gradient across processes there, while the rest of the pass goes on. Each leaf is
    ///   passed once, in an order fixed by the graph; nil (the default) costs nothing.
    public func backward(onGradientReady ready: ((Tensor) -> Void)? = nil) throws {
        guard count == 1 else {
            throw TensorError.autodiff(reason: "the loss must have one element, got \(label)")
        }
        try backward(gradient: [1], onGradientReady: ready)
    }

    /// Back-propagates a given gradient of this tensor (PyTorch's `y.backward(gradient)`):
    /// the vector–Jacobian product for a non-scalar output. `gradient` has one value per
    /// element. Releases the graph and calls `ready` like ``backward(onGradientReady:)``.
    public func backward(gradient: [Float], onGradientReady ready: ((Tensor) -> Void)? = nil) throws {
        guard gradient.count == count else {
            throw TensorError.autodiff(reason: "gradient has \(gradient.count) values for \(label)")
        }
        guard node.backwardStep != nil || requiresGrad else {
            throw TensorError.autodiff(reason: "\(label) was computed without gradients (no input requires one, or inside withoutGradients)")
        }
        let order = node.topologicalOrder()
        var pendingUses = ready == nil ? [:] : GradientNode.leafUses(in: order)
        grad = gradient
        for node in order.reversed() {
            guard let step = node.backwardStep else { continue }
            if node.grad != nil { step(node) }
            let parents = ready == nil ? [] : node.parents
            // Intermediate results: free their gradient and the graph behind them.
            node.backwardStep = nil
            node.parents = []
            node.grad = nil
            for parent in parents {
                let key = ObjectIdentifier(parent)
                guard let uses = pendingUses[key] else { continue }
                if uses > 1 { pendingUses[key] = uses - 1; continue }
                pendingUses[key] = nil
                if let leaf = parent.owner { ready?(leaf) }
            }
        }
    }
}

extension GradientNode {
    /// For each leaf that requires a gradient, how many inputs of recorded operations in
    /// `order` it is (a leaf used twice by one operation counts twice).
    static func leafUses(in order: [GradientNode]) -> [ObjectIdentifier: Int] {
        var uses: [ObjectIdentifier: Int] = [:]
        for node in order where node.backwardStep != nil {
            for parent in node.parents where parent.backwardStep == nil && parent.requiresGrad {
                uses[ObjectIdentifier(parent), default: 0] += 1
            }
        }
        return uses
    }

    /// The recorded nodes reachable from `self`, each after all of its inputs.
    func topologicalOrder() -> [GradientNode] {
        var order: [GradientNode] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: the generator's graph is thousands of nodes deep.
        var stack: [(node: GradientNode, expanded: Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for parent in node.parents where parent.backwardStep != nil {
                if !visited.contains(ObjectIdentifier(parent)) { stack.append((parent, false)) }
            }
        }
        return order
    }
}
