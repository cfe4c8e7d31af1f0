import Foundation
import GroupDNet
import Tensor

// Adam's moments in a safetensors file, named after PyTorch's optimizer state fields:
// `<parameter>.exp_avg`, `<parameter>.exp_avg_sq` (F32, the parameter's shape flattened)
// and `<parameter>.step` (I64 scalar).

extension Adam {
    /// Every parameter's state as safetensors entries.
    func checkpointFile() -> SafeTensors.File {
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, state) in states {
            entries[name + ".exp_avg"] = SafeTensors.Entry(shape: [state.firstMoment.count], floats: state.firstMoment)
            entries[name + ".exp_avg_sq"] = SafeTensors.Entry(
                shape: [state.secondMoment.count], floats: state.secondMoment)
            entries[name + ".step"] = SafeTensors.Entry(int64Scalar: Int64(state.step))
        }
        return SafeTensors.File(entries: entries, metadata: ["optimizer": "Adam"])
    }

    /// Replaces the state of `parameters` with `url`'s. After any step, every parameter must
    /// be present with its size; before the first (`stepsDone` 0) the file may be empty.
    /// Everything is checked before anything is set.
    func restore(from url: URL, parameters: [Tensor], stepsDone: Int) throws {
        let file = try SafeTensors.read(from: url)
        if stepsDone == 0 && file.entries.isEmpty { return }
        var restored: [(String, State)] = []
        for parameter in parameters {
            let name = parameter.name
            guard let first = file.entries[name + ".exp_avg"]?.floats,
                let second = file.entries[name + ".exp_avg_sq"]?.floats,
                let step = file.entries[name + ".step"]?.int64s?.first
            else {
                throw GroupDNetError.checkpoint(
                    file: url.path, tensor: name, reason: "Adam state (exp_avg F32, exp_avg_sq F32, step I64) missing")
            }
            guard first.count == parameter.count, second.count == parameter.count else {
                throw GroupDNetError.checkpoint(
                    file: url.path, tensor: name,
                    reason: "Adam moments of \(first.count) and \(second.count) values for a parameter of "
                        + "\(parameter.count)")
            }
            restored.append((name, Self.makeState(firstMoment: first, secondMoment: second, step: Int(step))))
        }
        for (name, state) in restored { setState(state, forParameterNamed: name) }
    }

    /// An `Adam.State` with the given fields. The Tensor target gives `State` no public
    /// initialiser, so one is taken from a throwaway optimiser's step on a one-value
    /// parameter and its public fields are overwritten.
    static func makeState(firstMoment: [Float], secondMoment: [Float], step: Int) -> State {
        var state = stateTemplate
        state.firstMoment = firstMoment
        state.secondMoment = secondMoment
        state.step = step
        return state
    }

    private static let stateTemplate: State = {
        let probe = Tensor(shape: [1], repeating: 0, requiresGrad: true, name: "probe")
        probe.grad = [0]
        let optimizer = Adam(learningRate: 0)
        try? optimizer.step([probe])
        return optimizer.states["probe"]!
    }()
}
