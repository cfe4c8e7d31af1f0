import SeededRandom

/// The order in which an epoch visits a shard set: a keyed bijection from positions
/// `0..<count` to global record indices, computed on demand with no buffer, and a pure function
/// of (data digest, seed, epoch).
///
/// Globally (no window), position p maps through a Feistel network over the smallest
/// power-of-four domain ≥ count, walking the cycle until the value falls inside `0..<count`
/// (cycle-walking keeps it a bijection; the domain is < 4·count, so few steps are taken).
///
/// With a window of K shards, the shards themselves are permuted first, cut into groups of K
/// consecutive permuted shards, and each group's records are permuted among themselves: the
/// reader touches only K shards at a time (locality, page cache) and still mixes records across
/// them. K ≥ shard count is the global shuffle.
public struct ShuffleOrder: Sendable {
    public let count: Int
    private let groups: [Group]
    private let groupStarts: [Int]

    private struct Group: Sendable {
        /// Shards (numbers into the set) in this group, in their permuted order.
        var shardStarts: [Int]
        var shardCounts: [Int]
        /// Cumulative record counts of the shards, for locating a local index.
        var cumulative: [Int]
        var permutation: FeistelPermutation
        var size: Int { cumulative.last ?? 0 }
    }

    /// - Parameters:
    ///   - recordCounts: records per shard, in set order (global index = shard start + record).
    ///   - digest: identifies the data (`Manifest.contentDigest`); any bytes.
    ///   - windowShards: nil for a global shuffle, else the number of shards mixed together.
    public init(recordCounts: [Int], digest: [UInt8], seed: UInt64, epoch: UInt64, windowShards: Int? = nil) {
        var digestWord: UInt64 = 0
        for (i, byte) in digest.prefix(8).enumerated() { digestWord |= UInt64(byte) << (8 * UInt64(i)) }
        let baseKey = SplitMix64.finalize(
            SplitMix64.finalize(digestWord) ^ SplitMix64.finalize(seed &+ 0x5851_F42D_4C95_7F2D)
                ^ SplitMix64.finalize(epoch &* 0x9E37_79B9_7F4A_7C15 &+ 1))
        var shardStarts: [Int] = []
        var running = 0
        for count in recordCounts {
            shardStarts.append(running)
            running += count
        }
        count = running
        let shardCount = recordCounts.count
        let window = min(max(1, windowShards ?? shardCount), max(1, shardCount))
        let shardOrder = FeistelPermutation(
            count: shardCount, key: SplitMix64.finalize(baseKey ^ 0xA076_1D64_78BD_642F))
        var groups: [Group] = []
        var groupStarts: [Int] = []
        var total = 0
        for groupStart in stride(from: 0, to: shardCount, by: window) {
            let members = (groupStart..<min(groupStart + window, shardCount)).map { shardOrder.map($0) }
            var cumulative: [Int] = []
            var sum = 0
            for member in members {
                sum += recordCounts[member]
                cumulative.append(sum)
            }
            let key = SplitMix64.finalize(baseKey ^ SplitMix64.finalize(UInt64(groupStart) &+ 0xE703_7ED1_A0B4_28DB))
            groups.append(
                Group(
                    shardStarts: members.map { shardStarts[$0] }, shardCounts: members.map { recordCounts[$0] },
                    cumulative: cumulative, permutation: FeistelPermutation(count: sum, key: key)))
            groupStarts.append(total)
            total += sum
        }
        self.groups = groups
        self.groupStarts = groupStarts
    }

    /// The global record index visited at `position` (0..<count).
    public func globalIndex(atPosition position: Int) -> Int {
        precondition(position >= 0 && position < count, "position \(position) outside 0..<\(count)")
        let groupNumber = Self.lastIndex(in: groupStarts, notAbove: position)
        let group = groups[groupNumber]
        let local = group.permutation.map(position - groupStarts[groupNumber])
        // First shard of the group whose cumulative count exceeds `local`.
        var member = 0
        var low = 0, high = group.cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if group.cumulative[middle] > local { high = middle } else { low = middle + 1 }
        }
        member = low
        let before = member == 0 ? 0 : group.cumulative[member - 1]
        return group.shardStarts[member] + (local - before)
    }

    private static func lastIndex(in starts: [Int], notAbove value: Int) -> Int {
        var low = 0, high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= value { low = middle } else { high = middle - 1 }
        }
        return low
    }
}

/// A keyed bijection of `0..<count`: a balanced Feistel network over 2·halfBits bits with
/// cycle-walking.
struct FeistelPermutation: Sendable {
    let count: Int
    private let halfBits: UInt64
    private let roundKeys: [UInt64]

    init(count: Int, key: UInt64) {
        self.count = count
        var bits: UInt64 = 2
        while (UInt64(1) << bits) < UInt64(max(count, 1)) { bits += 2 }
        halfBits = bits / 2
        var keys: [UInt64] = []
        var state = key
        for _ in 0..<6 {
            state = SplitMix64.finalize(state &+ 0x9E37_79B9_7F4A_7C15)
            keys.append(state)
        }
        roundKeys = keys
    }

    func map(_ value: Int) -> Int {
        var x = UInt64(value)
        repeat { x = permuteDomain(x) } while x >= UInt64(count)
        return Int(x)
    }

    private func permuteDomain(_ x: UInt64) -> UInt64 {
        let mask = (UInt64(1) << halfBits) - 1
        var left = x >> halfBits
        var right = x & mask
        for key in roundKeys {
            let next = left ^ (SplitMix64.finalize(right ^ key) & mask)
            left = right
            right = next
        }
        return (left << halfBits) | right
    }
}
