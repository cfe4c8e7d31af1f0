/// The processes of a data-parallel run, as the trainer sees them: its rank among `size`, and
/// the few collective operations it needs. Every process must call the same collectives on a
/// communicator in the same order (as MPI requires); a collective returns when every process
/// has contributed, and gives every process the same result.
///
/// ``SingleProcess`` is the run of one process, where every collective is the identity; ``MPIWorld``
/// is a process of a job started by `mpirun` or `srun`.
public protocol Communicator: AnyObject, Sendable {
    /// This process's number, 0..<size; rank 0 writes the run's files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` by their element-wise sums over every process.
    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
    func sum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Replaces `values` by their element-wise maxima (or minima) over every process.
    func maximum(_ values: UnsafeMutableBufferPointer<Int64>) throws
    func minimum(_ values: UnsafeMutableBufferPointer<Int64>) throws
    /// Copies `bytes` of process `root` into every other process's `bytes` (same count everywhere).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Returns when every process has called it.
    func barrier() throws
    /// A communicator over the same processes whose collectives are ordered independently of
    /// this one's, so that another thread can use it at the same time (the gradient thread).
    func duplicate() throws -> Communicator
}

/// One process alone: rank 0 of 1, every collective leaves its values as they are.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func maximum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    public func minimum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    public func barrier() {}
    public func duplicate() -> Communicator { SingleProcess() }
}

// MARK: - Conveniences over arrays and single values

extension Communicator {
    /// Whether this is one process of several.
    public var isDistributed: Bool { size > 1 }

    public func sum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try sum($0) }
    }

    /// The maximum of `value` over every process.
    public func maximum(_ value: Int64) throws -> Int64 {
        var values = [value]
        try values.withUnsafeMutableBufferPointer { try maximum($0) }
        return values[0]
    }

    /// The minimum of `value` over every process.
    public func minimum(_ value: Int64) throws -> Int64 {
        var values = [value]
        try values.withUnsafeMutableBufferPointer { try minimum($0) }
        return values[0]
    }

    /// Runs `body` on every process and tells every process whether it failed anywhere, so
    /// that all of them stop together instead of some waiting forever in the next collective
    /// for one that threw. Returns `body`'s value when it succeeded everywhere; otherwise
    /// throws ``CollectiveFailure`` on every process, naming the lowest rank that failed. One
    /// process alone rethrows `body`'s error unchanged. `body` must make no collective call on
    /// this communicator's processes (not even `duplicate()`): a process that failed before it
    /// would be waiting in this function's own collective instead.
    public func collectively<Value>(_ body: () throws -> Value) throws -> Value {
        let result = Result(catching: body)
        guard isDistributed else { return try result.get() }
        var local: Error?
        if case let .failure(error) = result { local = error }
        let lowest = try minimum(local == nil ? Int64.max : Int64(rank))
        guard lowest != Int64.max else { return try result.get() }
        throw CollectiveFailure(failedRank: Int(lowest), rank: rank, localError: local)
    }
}

/// Work that every process of a run did together failed on at least one of them (see
/// ``Communicator/collectively(_:)``). Every process throws it, so every process can end
/// cleanly with the same outcome; the error to show is the one of ``failedRank``.
public struct CollectiveFailure: Error, CustomStringConvertible {
    /// The lowest rank whose work failed.
    public let failedRank: Int
    /// The rank that threw this.
    public let rank: Int
    /// This process's own error, nil when its work succeeded.
    public let localError: Error?

    /// Whether this process holds the error to show (the lowest failing rank's).
    public var isReportedHere: Bool { rank == failedRank && localError != nil }

    public var description: String {
        if let localError { return "\(localError)" }
        return "rank \(failedRank) failed (its error is reported there)"
    }
}
