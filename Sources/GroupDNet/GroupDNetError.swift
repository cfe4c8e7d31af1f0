/// Why the model refused a configuration, an input or a checkpoint.
public enum GroupDNetError: Error, Equatable, CustomStringConvertible {
    /// A layer or network was configured with arguments that cannot work (channels not
    /// divisible by groups, sizes that do not match). `layer` names it, e.g. `up_1.conv_0`.
    case invalidConfiguration(layer: String, reason: String)
    /// An input tensor does not fit the model (wrong rank, channels or size).
    case invalidInput(reason: String)
    /// A checkpoint could not be read, written or applied. `tensor` names the entry when one
    /// is at fault; `reason` says what differs (shape, dtype, missing, unexpected, offsets).
    case checkpoint(file: String, tensor: String?, reason: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(layer, reason): return "\(layer): invalid configuration: \(reason)"
        case let .invalidInput(reason): return "invalid input: \(reason)"
        case let .checkpoint(file, tensor, reason):
            return "\(file): " + (tensor.map { "tensor \($0): " } ?? "") + reason
        }
    }
}
