/// What can go wrong while evaluating: a weight file that does not fit the network, images
/// that cannot be compared, or statistics that cannot be formed. Every case names the file or
/// the input at fault.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// A weight file is unreadable, lacks a tensor, or has one of the wrong type or shape.
    case weights(file: String, tensor: String?, reason: String)
    /// Images of the wrong shape or size for a network, or two sets that cannot be paired.
    case invalidInput(reason: String)
    /// An image file that could not be read or decoded.
    case image(file: String, reason: String)
    /// Too few samples for a statistic (a covariance needs two images).
    case insufficientData(reason: String)

    public var description: String {
        switch self {
        case let .weights(file, tensor, reason):
            return "\(file)" + (tensor.map { ": tensor \($0)" } ?? "") + ": \(reason)"
        case let .invalidInput(reason): return reason
        case let .image(file, reason): return "\(file): \(reason)"
        case let .insufficientData(reason): return reason
        }
    }
}
