/// Why an application refused its input. Every case names the argument or file concerned, so
/// a command line or a web page can show the sentence as it is.
public enum ApplicationError: Error, Equatable, CustomStringConvertible {
    /// An argument (a class name, a count, a latent code, a map) is unusable.
    case invalidArgument(_ argument: String, reason: String)
    /// giflib refused to encode an animation (its own sentence in `reason`).
    case gifEncoding(reason: String)

    public var description: String {
        switch self {
        case let .invalidArgument(argument, reason): return "\(argument): \(reason)"
        case let .gifEncoding(reason): return "GIF encoding failed: \(reason)"
        }
    }
}
