/// Adam (Kingma & Ba) with PyTorch's exact update, no weight decay, no AMSGrad:
///
///     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
///
/// State is kept per parameter *name* (so it can be saved and matched to a checkpoint);
/// names must be unique and non-empty. Parameters whose `grad` is nil are skipped and their
/// step count does not advance, as in PyTorch.
public final class Adam {
    /// The step size; change it between steps for a schedule.
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float

    /// First and second moments and the step count of one parameter.
    public struct State {
        public var firstMoment: [Float]
        public var secondMoment: [Float]
        public var step: Int
    }

    /// Per-parameter state by name (`exp_avg`, `exp_avg_sq`, `step` in PyTorch).
    public private(set) var states: [String: State] = [:]

    /// GroupDNet uses β = (0, 0.9), lr 1e-4 for G and E and 4e-4 for D.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// Updates every parameter that has a gradient, in place. Throws if a name is empty or
    /// repeated, or if a parameter's size differs from its saved state.
    public func step(_ parameters: [Tensor]) throws {
        var seen = Set<String>()
        for parameter in parameters {
            guard !parameter.name.isEmpty, seen.insert(parameter.name).inserted else {
                throw TensorError.invalidArgument(
                    operation: "Adam.step", reason: "parameter names must be unique and non-empty: \(parameter.label)")
            }
            guard let gradient = parameter.grad else { continue }
            // Taken out of the dictionary while written: a copy left in it would make the writes
            // below copy both moments first (800 MB a step for GroupDNet's generator).
            var state =
                states.removeValue(forKey: parameter.name)
                ?? State(
                    firstMoment: [Float](repeating: 0, count: parameter.count),
                    secondMoment: [Float](repeating: 0, count: parameter.count), step: 0)
            defer { states[parameter.name] = state }
            guard state.firstMoment.count == parameter.count else {
                throw TensorError.shapeMismatch(
                    operation: "Adam.step",
                    reason: "state of \(parameter.name) has \(state.firstMoment.count) values, parameter "
                        + "\(parameter.label)")
            }
            state.step += 1
            let correction1 = 1 - Float(Double(beta1).power(state.step))
            let correction2Root = Float((1 - Double(beta2).power(state.step)).squareRoot())
            let stepSize = learningRate / correction1
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            withReadPointer(gradient) { g in
                withWritePointer(&state.firstMoment) { m in
                    withWritePointer(&state.secondMoment) { v in
                        withWritePointer(&parameter.data) { p in
                            elementwiseChunks(parameter.count) { range in
                                for i in range {
                                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                                    p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Replaces the state of one parameter (for resuming from a checkpoint).
    public func setState(_ state: State, forParameterNamed name: String) {
        states[name] = state
    }
}

private extension Double {
    func power(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= self }
        return result
    }
}

/// A learning rate as a function of the epoch.
public enum LearningRateSchedule: Equatable {
    /// The same rate throughout.
    case constant(Float)
    /// `base` for `constantEpochs`, then a linear decay by base/`decayEpochs` per epoch,
    /// exactly as SPADE's `update_learning_rate` called at the end of each epoch: epoch e
    /// (1-based) uses base × max(0, 1 − max(0, e − 1 − constantEpochs)/decayEpochs). So the
    /// first decayed epoch is constantEpochs + 2 and the last of constant+decay epochs runs at
    /// base/decayEpochs; the rate reaches 0 after it.
    case constantThenLinearDecay(base: Float, constantEpochs: Int, decayEpochs: Int)

    /// The rate for 1-based `epoch`.
    public func rate(epoch: Int) -> Float {
        switch self {
        case let .constant(rate):
            return rate
        case let .constantThenLinearDecay(base, constantEpochs, decayEpochs):
            let decayed = max(0, epoch - 1 - constantEpochs)
            guard decayEpochs > 0 else { return decayed > 0 ? 0 : base }
            return base * max(0, 1 - Float(decayed) / Float(decayEpochs))
        }
    }
}
