import SeededRandom

/// One of N workers that split a data set with no coordinator: worker `index` takes the stems
/// whose `stableHash` modulo `count` is `index`. The slice depends only on the stem, so every
/// machine computes the same partition of the same folder, whatever its listing order.
public struct WorkerSlice: Equatable, Sendable, CustomStringConvertible {
    /// 0-based index, below `count`.
    public let index: Int
    /// Number of workers, at least 1.
    public let count: Int

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0..<count).contains(index), "worker \(index)/\(count) out of range")
        self.index = index
        self.count = count
    }

    /// The whole data set.
    public static let whole = WorkerSlice(index: 0, count: 1)

    /// Parses `i/N` with 0 ≤ i < N (Slurm's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
            (0..<count).contains(index)
        else { return nil }
        self.init(index: index, count: count)
    }

    public func contains(stem: String) -> Bool {
        count == 1 || contains(stemFNV: fnv1a64(stem))
    }

    /// `contains(stem:)` for a stem whose FNV-1a hash (`fnv1a64`) is known.
    func contains(stemFNV: UInt64) -> Bool {
        count == 1 || Int(murmurFinalize(stemFNV) % UInt64(count)) == index
    }

    public var description: String { "\(index)/\(count)" }
}
