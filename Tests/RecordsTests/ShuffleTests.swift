import Records
import XCTest

final class ShuffleTests: XCTestCase {
    private let digest = Array("a manifest digest".utf8)

    private func order(_ counts: [Int], seed: UInt64 = 1, epoch: UInt64 = 0, window: Int? = nil) -> [Int] {
        let shuffle = ShuffleOrder(recordCounts: counts, digest: digest, seed: seed, epoch: epoch, windowShards: window)
        return (0..<shuffle.count).map { shuffle.globalIndex(atPosition: $0) }
    }

    func testIsAPermutationForAwkwardSizes() {
        for counts in [[1], [2], [3], [5, 0, 7], [1000], [17, 33, 64, 1], [4097]] {
            let total = counts.reduce(0, +)
            XCTAssertEqual(order(counts).sorted(), Array(0..<total), "\(counts)")
            XCTAssertEqual(order(counts, window: 2).sorted(), Array(0..<total), "\(counts) windowed")
        }
    }

    func testIsAPureFunctionOfDigestSeedAndEpoch() {
        let counts = [100, 100, 100]
        XCTAssertEqual(order(counts, seed: 5, epoch: 2), order(counts, seed: 5, epoch: 2))
        XCTAssertNotEqual(order(counts, seed: 5, epoch: 2), order(counts, seed: 5, epoch: 3))
        XCTAssertNotEqual(order(counts, seed: 5), order(counts, seed: 6))
        let other = ShuffleOrder(recordCounts: counts, digest: Array("another".utf8), seed: 5, epoch: 0)
        XCTAssertNotEqual(order(counts, seed: 5), (0..<300).map { other.globalIndex(atPosition: $0) })
    }

    /// Mixing: with 16 shards of 256 records, consecutive samples come from the same shard about
    /// 1/16 of the time when the shuffle is global, and every block of 64 positions draws from
    /// many shards. A shard-local shuffle would give 1.0 and 1 shard.
    func testGlobalShuffleMixesShards() {
        let counts = [Int](repeating: 256, count: 16)
        let visited = order(counts).map { $0 / 256 }
        let sameShardPairs = zip(visited, visited.dropFirst()).filter { $0 == $1 }.count
        let fraction = Double(sameShardPairs) / Double(visited.count - 1)
        XCTAssertLessThan(fraction, 2.0 / 16, "consecutive same-shard fraction \(fraction)")
        let distinctPerBlock = stride(from: 0, to: visited.count, by: 64).map { Set(visited[$0..<($0 + 64)]).count }
        XCTAssertGreaterThanOrEqual(distinctPerBlock.min()!, 12, "\(distinctPerBlock)")
        // Positions also move far: the mean displacement of a uniform permutation is n/3.
        let displacement = order(counts).enumerated().map { abs($0.offset - $0.element) }.reduce(0, +) / visited.count
        XCTAssertGreaterThan(displacement, 4096 / 4)
    }

    func testWindowedShuffleStaysInsideItsWindowAndMixesWithinIt() {
        let counts = [Int](repeating: 100, count: 12)
        let visited = order(counts, window: 3).map { $0 / 100 }
        for window in 0..<4 {
            let shards = Set(visited[(window * 300)..<((window + 1) * 300)])
            XCTAssertEqual(shards.count, 3, "window \(window) touches \(shards)")
        }
        let sameShardPairs = zip(visited, visited.dropFirst()).filter { $0 == $1 }.count
        XCTAssertLessThan(Double(sameShardPairs) / Double(visited.count - 1), 0.5)
    }
}
