import Foundation
import ImageIO

/// A thread-safe accumulator for writers whose worker threads each see samples (the pipeline
/// runner's observer, the shard writer): statistics in the same pass as the writing.
///
/// It holds several `StatisticsAccumulator` stripes, each behind its own lock. `add` takes the
/// first stripe whose lock is free (trying them in turn, starting from a rotating position),
/// so concurrent callers rarely wait and never share a stripe; `finish()` merges the stripes.
/// Since merging is exact, the result does not depend on which stripe took which sample.
public final class SharedStatisticsAccumulator: @unchecked Sendable {
    private let stripes: [Stripe]
    private let counterLock = NSLock()
    private var nextStart = 0

    private final class Stripe {
        let lock = NSLock()
        var accumulator: StatisticsAccumulator
        init(_ accumulator: StatisticsAccumulator) { self.accumulator = accumulator }
    }

    /// - Parameters:
    ///   - empty: an empty accumulator with the class table, thresholds and bins to use.
    ///   - stripes: independent accumulators; more than the number of concurrent callers
    ///     keeps them from waiting. At least 1.
    public init(_ empty: StatisticsAccumulator, stripes: Int = 8) {
        precondition(stripes >= 1, "at least one stripe")
        self.stripes = (0..<stripes).map { _ in Stripe(empty) }
    }

    /// Adds one sample; safe to call from any number of threads at once.
    public func add(label: LabelMap, photo: Image?, partition: String, key: String? = nil) {
        counterLock.lock()
        let start = nextStart
        nextStart = (nextStart + 1) % stripes.count
        counterLock.unlock()
        for offset in 0..<stripes.count {
            let stripe = stripes[(start + offset) % stripes.count]
            if stripe.lock.try() {
                stripe.accumulator.add(label: label, photo: photo, partition: partition, key: key)
                stripe.lock.unlock()
                return
            }
        }
        // Every stripe busy: wait for the one this call started at.
        let stripe = stripes[start]
        stripe.lock.lock()
        stripe.accumulator.add(label: label, photo: photo, partition: partition, key: key)
        stripe.lock.unlock()
    }

    /// All stripes merged into one accumulator (for `finish()`, or to merge with another).
    public func merged() -> StatisticsAccumulator {
        var result: StatisticsAccumulator?
        for stripe in stripes {
            stripe.lock.lock()
            if result == nil { result = stripe.accumulator } else { result!.merge(stripe.accumulator) }
            stripe.lock.unlock()
        }
        return result!
    }

    /// The statistics of every sample added so far.
    public func finish() -> DatasetStatistics { merged().finish() }
}
