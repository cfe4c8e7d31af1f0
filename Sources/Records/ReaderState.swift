/// Where an iteration over a shard set stands: a few integers that resume on exactly the next
/// sample, also with a different number of workers.
///
/// The samples of all epochs form one stream: stream index g = epoch · count + position, and
/// stream index g visits `ShuffleOrder(epoch).globalIndex(atPosition: position)`. Worker r of W
/// takes stream indices cursor + r, cursor + r + W, …, where cursor is the stream index of the
/// first sample not yet taken by anyone. Workers that step in lockstep (as data-parallel
/// training does) all report the same state after each step, and a resume with W′ workers
/// hands out cursor + r′, cursor + r′ + W′, …: nothing is repeated or lost.
public struct ReaderState: Codable, Equatable, Sendable {
    /// Current epoch (also the shuffle's epoch).
    public var epoch: UInt64
    /// Position within the epoch of the first sample not yet taken, 0..<count.
    public var position: Int
    /// Shuffle seed.
    public var seed: UInt64
    /// Number of workers that produced this state (informational; a resume may use another).
    public var worldSize: Int

    public init(epoch: UInt64 = 0, position: Int = 0, seed: UInt64, worldSize: Int = 1) {
        self.epoch = epoch
        self.position = position
        self.seed = seed
        self.worldSize = worldSize
    }

    /// The stream cursor for a set of `count` records.
    public func cursor(count: Int) -> UInt64 { epoch &* UInt64(count) &+ UInt64(position) }

    /// The state whose cursor is `cursor` for a set of `count` records.
    public static func at(cursor: UInt64, count: Int, seed: UInt64, worldSize: Int) -> ReaderState {
        ReaderState(
            epoch: cursor / UInt64(count), position: Int(cursor % UInt64(count)), seed: seed, worldSize: worldSize)
    }
}
