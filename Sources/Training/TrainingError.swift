/// Why training, resuming or generation refused to go on. Every case names the file or the
/// option concerned and, where there is one, says what to do about it.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// The shard set does not fit the model (class count, image size, no training records).
    case dataMismatch(file: String, reason: String, hint: String)
    /// A checkpoint could not be written, read or applied. A failed resume always throws this
    /// (or the GroupDNet checkpoint error naming the tensor file); it never restarts silently.
    case checkpoint(file: String, reason: String)
    /// The run folder already holds a run that would be overwritten, or holds none to resume.
    case runFolder(path: String, reason: String, hint: String)
    /// A loss became NaN or infinite; nothing is saved from that step.
    case diverged(step: Int, losses: String)
    /// An input of `generate` (label map, style image, class name) is unusable.
    case invalidInput(file: String, reason: String)
    /// The ranks of a data-parallel run no longer hold the same weights, or did not start from
    /// the same state; every rank throws it after the same step.
    case ranksDiffer(step: Int, reason: String, hint: String)

    /// Whether every rank of a data-parallel run throws this same error at the same point
    /// (it follows from values all ranks share), so that one copy of it is enough to show.
    public var isSameOnEveryRank: Bool {
        switch self {
        case .diverged, .ranksDiffer: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .dataMismatch(file, reason, hint): return "\(file): \(reason)\nHint: \(hint)"
        case let .checkpoint(file, reason): return "\(file): \(reason)"
        case let .runFolder(path, reason, hint): return "\(path): \(reason)\nHint: \(hint)"
        case let .invalidInput(file, reason): return "\(file): \(reason)"
        case let .ranksDiffer(step, reason, hint):
            return "after step \(step): \(reason)\nHint: \(hint)"
        case let .diverged(step, losses):
            return "step \(step): a loss is not finite (\(losses))\nHint: resume from the last checkpoint with a lower learning rate"
        }
    }
}
