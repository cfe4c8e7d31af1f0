import Tensor

// One naming mechanism for every persistent tensor, as PyTorch builds state_dict keys: a
// tensor's key is the path of child names from the network to its layer, joined by ".",
// then the tensor's own name. Each layer type declares its children and its own tensors once;
// `StateName` holds the leaf names PyTorch uses. Nothing else spells a key.

/// The leaf names PyTorch gives a layer's tensors.
public enum StateName {
    /// A convolution's weight (no spectral norm) or the spectrally normalised weight's source.
    public static let weight = "weight"
    public static let bias = "bias"
    /// The raw weight of a spectrally normalised convolution (`torch.nn.utils.spectral_norm`).
    public static let weightOriginal = "weight_orig"
    public static let spectralU = "weight_u"
    public static let spectralV = "weight_v"
    public static let runningMean = "running_mean"
    public static let runningVariance = "running_var"
    public static let batchesTracked = "num_batches_tracked"
}

/// One persistent tensor of a layer, as it appears in a checkpoint.
public enum StateEntry {
    /// A float32 tensor: a parameter (trainable when `requiresGrad`), a spectral-norm vector,
    /// or a running statistic. Loading replaces its `data` in place.
    case float(Tensor)
    /// The int64 scalar `num_batches_tracked` of a batch norm.
    case counter(BatchNormStatistics)

    /// The shape stored in a checkpoint (`[]` for the counter).
    public var shape: [Int] {
        switch self {
        case let .float(tensor): return tensor.shape
        case .counter: return []
        }
    }
}

/// A layer or network whose persistent tensors have PyTorch state_dict names.
public protocol Module: AnyObject {
    /// Sub-layers with their names relative to this one, in PyTorch registration order.
    /// A name may contain dots when PyTorch wraps the layer in `Sequential`s (`mlp_shared.0`).
    var children: [(name: String, module: Module)] { get }
    /// This layer's own tensors by leaf name (see ``StateName``).
    var ownState: [(name: String, entry: StateEntry)] { get }
}

extension Module {
    /// Every persistent tensor under its full state_dict key, depth first in registration
    /// order: exactly the keys of the reference network's `state_dict()`.
    public var namedState: [(key: String, entry: StateEntry)] {
        var result: [(key: String, entry: StateEntry)] = []
        collectState(prefix: "", into: &result)
        return result
    }

    private func collectState(prefix: String, into result: inout [(key: String, entry: StateEntry)]) {
        for (name, entry) in ownState { result.append((prefix + name, entry)) }
        for (name, child) in children { child.collectState(prefix: prefix + name + ".", into: &result) }
    }

    /// The trainable tensors (weights and biases; not u, v or running statistics), each named
    /// by its state_dict key so that ``Adam`` state can be saved and matched by name.
    public var parameters: [Tensor] {
        namedState.compactMap { _, entry in
            if case let .float(tensor) = entry, tensor.requiresGrad { return tensor }
            return nil
        }
    }

    /// The number of trainable values (PyTorch's `sum(p.numel() for p in net.parameters())`).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Sets every float tensor's `name` to its state_dict key (for error messages and Adam).
    /// Networks call this once after building their layers.
    func assignStateNames() {
        for (key, entry) in namedState {
            if case let .float(tensor) = entry { tensor.name = key }
        }
    }

    /// Clears the gradients of every parameter.
    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }
}

/// Checks a layer argument, throwing ``GroupDNetError/invalidConfiguration(layer:reason:)``
/// with `reason` when `condition` is false.
func require(_ condition: Bool, _ layer: String, _ reason: @autoclosure () -> String) throws {
    guard condition else { throw GroupDNetError.invalidConfiguration(layer: layer, reason: reason()) }
}
