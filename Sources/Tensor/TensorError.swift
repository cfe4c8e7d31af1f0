/// Why a tensor operation refused its input. Every case names the operation and says what
/// was expected and what was given, with shapes, so that a model author can find the layer.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// Input shapes do not fit the operation (wrong rank, channel count, mismatched sizes).
    case shapeMismatch(operation: String, reason: String)
    /// A non-shape argument is out of range (stride 0, groups not dividing channels, …).
    case invalidArgument(operation: String, reason: String)
    /// `backward()` was called in a way that cannot work (non-scalar loss, no graph).
    case autodiff(reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, reason): return "\(operation): shape mismatch: \(reason)"
        case let .invalidArgument(operation, reason): return "\(operation): invalid argument: \(reason)"
        case let .autodiff(reason): return "backward: \(reason)"
        }
    }
}
