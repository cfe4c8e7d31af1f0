// Reverse-mode autodiff on a tape: every operation that runs with gradients enabled records
// its inputs and a closure that turns the output's gradient into input gradients.
// backward() visits the recorded graph in reverse topological order.

/// Whether operations record the graph. Process-wide, like PyTorch's grad mode; the trainer
/// toggles it from one thread, so it is not synchronised.
nonisolated(unsafe) private var gradientRecordingEnabled = true

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
    /// `step` receives the output (whose `grad` is set) and accumulates into the inputs.
    static func record(_ output: Tensor, inputs: [Tensor], step: @escaping (Tensor) -> Void) {
        guard gradientRecordingEnabled, inputs.contains(where: { $0.requiresGrad }) else { return }
        output.requiresGrad = true
        output.parents = inputs
        output.backwardStep = step
    }

    /// Adds `body`'s contribution to this tensor's gradient, allocating zeros the first time.
    /// Does nothing when the tensor does not require a gradient.
    func accumulateGradient(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if grad == nil { grad = [Float](repeating: 0, count: count) }
        grad!.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Sets the gradient to `gradient` (sharing its storage) when the tensor requires one and
    /// has none yet; returns whether it did. For operations whose local derivative is 1.
    func takeGradientIfNone(_ gradient: [Float]) -> Bool {
        guard requiresGrad, grad == nil else { return false }
        grad = gradient
        return true
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
        guard backwardStep != nil || requiresGrad else {
            throw TensorError.autodiff(reason: "\(label) was computed without gradients (no input requires one, or inside withoutGradients)")
        }
        let order = topologicalOrder()
        var pendingUses = ready == nil ? [:] : Self.leafUses(in: order)
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
                ready?(parent)
            }
        }
    }

    /// For each leaf that requires a gradient, how many inputs of recorded operations in
    /// `order` it is (a leaf used twice by one operation counts twice).
    private static func leafUses(in order: [Tensor]) -> [ObjectIdentifier: Int] {
        var uses: [ObjectIdentifier: Int] = [:]
        for node in order where node.backwardStep != nil {
            for parent in node.parents where parent.backwardStep == nil && parent.requiresGrad {
                uses[ObjectIdentifier(parent), default: 0] += 1
            }
        }
        return uses
    }

    /// The recorded nodes reachable from `self`, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: the generator's graph is thousands of nodes deep.
        var stack: [(node: Tensor, expanded: Bool)] = [(self, false)]
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
