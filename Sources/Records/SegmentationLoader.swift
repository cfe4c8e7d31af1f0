import Foundation

/// Streams decoded segmentation samples from a shard set in shuffled order, decoding on
/// `decodeThreads` background threads into a fixed pool of preallocated buffers (the bounded
/// prefetch queue), and delivering them strictly in stream order.
///
/// Memory is fixed at start: `queueDepth` + 1 slots of one photo and one label map each (and one
/// instance map when the first readable record has one: then every record must), sized from the
/// first readable record (every record must share that size; another size is reported as a bad
/// record). Nothing grows while streaming.
///
/// A damaged record (bad CRC, bad payload, undecodable image, wrong size) is reported with
/// shard, record, offset and key; with `.skip` it is counted in `skipped` and the stream goes on
/// to the next sample, with `.fail` `next()` throws it.
public final class SegmentationLoader {
    public enum CorruptionPolicy: Sendable { case skip, fail }

    public struct Options: Sendable {
        public var seed: UInt64
        /// Shuffle; when false, records come in set order every epoch.
        public var shuffle: Bool
        /// nil for a global shuffle, else the number of shards mixed together.
        public var windowShards: Int?
        public var rank: Int
        public var worldSize: Int
        /// Samples decoded ahead of the consumer (the bounded queue).
        public var queueDepth: Int
        /// Threads decoding in parallel; the order delivered does not depend on it.
        public var decodeThreads: Int
        public var corruptionPolicy: CorruptionPolicy
        /// Stop after this many epochs (nil: stream forever).
        public var epochLimit: UInt64?

        public init(
            seed: UInt64, shuffle: Bool = true, windowShards: Int? = nil, rank: Int = 0, worldSize: Int = 1,
            queueDepth: Int = 8, decodeThreads: Int = 1, corruptionPolicy: CorruptionPolicy = .skip,
            epochLimit: UInt64? = nil
        ) {
            self.seed = seed
            self.shuffle = shuffle
            self.windowShards = windowShards
            self.rank = rank
            self.worldSize = worldSize
            self.queueDepth = max(2, queueDepth)
            self.decodeThreads = max(1, decodeThreads)
            self.corruptionPolicy = corruptionPolicy
            self.epochLimit = epochLimit
        }
    }

    /// One decoded sample. Its buffers belong to the loader and stay valid until the next call
    /// to `next()`.
    public struct Sample {
        public let key: String
        public let globalIndex: Int
        /// Stream index (epoch · count + position) of this sample.
        public let streamIndex: UInt64
        public let width: Int
        public let height: Int
        /// RGB8, width·height·3 bytes.
        public let pixels: UnsafeBufferPointer<UInt8>
        /// Class ids, width·height bytes.
        public let label: UnsafeBufferPointer<UInt8>
        /// Instance ids, width·height values, when the set has instance maps (`hasInstances`).
        public let instances: UnsafeBufferPointer<UInt16>?
        public let split: SegmentationRecord.ClassSplit
    }

    public let set: ShardSet
    public let options: Options
    /// Photo and label size of every sample (taken from the first readable record).
    public let width: Int
    public let height: Int
    /// Whether every sample carries an instance map (the first readable record has one).
    public let hasInstances: Bool
    private let engine: PrefetchEngine

    /// Starts streaming at `state` (nil: epoch 0, position 0, `options.seed`). Throws when the
    /// set is empty or none of its first 64 records can be read (the first readable record's
    /// size fixes the buffers).
    public init(set: ShardSet, options: Options, state: ReaderState? = nil) throws {
        precondition(
            options.rank >= 0 && options.rank < options.worldSize, "rank \(options.rank) of \(options.worldSize)")
        guard set.count > 0 else {
            throw RecordsError(file: set.directory.path, reason: .invalidArgument("the shard set holds no records"))
        }
        if let state, !(0..<set.count).contains(state.position) {
            throw RecordsError(
                file: set.directory.path,
                reason: .invalidArgument(
                    "the saved reader position \(state.position) is outside the set's \(set.count) records"))
        }
        self.set = set
        self.options = options
        (width, height, hasInstances) = try Self.firstReadableLayout(of: set)
        let start = state ?? ReaderState(seed: options.seed, worldSize: options.worldSize)
        engine = PrefetchEngine(
            set: set, options: options, width: width, height: height, instances: hasInstances,
            cursor: start.cursor(count: set.count))
        engine.start()
    }

    deinit { engine.stop() }

    /// The state to save: resuming from it continues with the sample after the last one
    /// returned by `next()` (for every worker, when workers step in lockstep).
    public var state: ReaderState {
        ReaderState.at(
            cursor: engine.consumerCursor, count: set.count, seed: options.seed, worldSize: options.worldSize)
    }

    /// Records skipped so far under `.skip`, each with shard, record, offset and key.
    public var skipped: [RecordsError] { engine.skipped }

    /// The size of the first of the first 64 records that parses, and whether it has an
    /// instance map (a damaged record 0 must not stop the stream; it is reported when the
    /// stream reaches it). Throws the first error otherwise.
    private static func firstReadableLayout(of set: ShardSet) throws -> (width: Int, height: Int, instances: Bool) {
        var firstError: Error?
        var buffer: [UInt8] = []
        for global in 0..<min(set.count, 64) {
            do {
                return try set.withCopiedSegmentationRecord(at: global, buffer: &buffer) {
                    ($0.width, $0.height, $0.hasInstances)
                }
            } catch { firstError = firstError ?? error }
        }
        throw firstError!
    }

    /// The next sample, or nil after `epochLimit` epochs (and after a fatal error was thrown).
    /// Blocks while the queue is empty. The sample's buffers stay valid until the next call.
    public func next() throws -> Sample? { try engine.next() }
}

/// The producer thread and the bounded queue behind `SegmentationLoader`. A separate object so
/// that the thread keeps it alive, not the loader: dropping the loader stops the thread.
private final class PrefetchEngine: @unchecked Sendable {
    typealias Sample = SegmentationLoader.Sample
    typealias Options = SegmentationLoader.Options

    private final class Slot {
        let pixels: UnsafeMutableBufferPointer<UInt8>
        let label: UnsafeMutableBufferPointer<UInt8>
        let instances: UnsafeMutableBufferPointer<UInt16>?
        init(width: Int, height: Int, instances withInstances: Bool) {
            pixels = .allocate(capacity: width * height * 3)
            pixels.initialize(repeating: 0)
            label = .allocate(capacity: width * height)
            label.initialize(repeating: 0)
            instances = withInstances ? .allocate(capacity: width * height) : nil
            instances?.initialize(repeating: 0)
        }
        deinit {
            pixels.deallocate()
            label.deallocate()
            instances?.deallocate()
        }
    }

    /// What decoding the worker's n-th item gave.
    private enum Item {
        case sample(slot: Int, key: String, global: Int, stream: UInt64, split: SegmentationRecord.ClassSplit)
        case skipped(RecordsError)
        case failure(RecordsError, stream: UInt64)
        case end
    }

    let set: ShardSet
    let options: Options
    let width: Int
    let height: Int
    private let slots: [Slot]
    private let startCursor: UInt64
    private let condition = NSCondition()
    // Everything below is guarded by `condition`.
    private var freeSlots: [Int]
    /// Finished items by sequence number n (the worker's n-th sample, stream index
    /// startCursor + rank + n · worldSize), delivered strictly in n order.
    private var results: [Int: Item] = [:]
    private var nextToDeliver = 0
    private var nextToClaim = 0
    /// No item at or after this sequence number is decoded (the end, or after a fatal error).
    private var endSequence = Int.max
    private var stopping = false
    private var finished = false
    private var heldSlot: Int?
    private var skippedErrors: [RecordsError] = []
    /// Items skipped since the last sample delivered.
    private var consecutiveSkips = 0
    private var lastCursor: UInt64

    /// Items one worker sees per epoch: when that many in a row are damaged, nothing is left.
    private var itemsPerEpoch: Int { (set.count + options.worldSize - 1) / options.worldSize }

    init(set: ShardSet, options: Options, width: Int, height: Int, instances: Bool, cursor: UInt64) {
        self.set = set
        self.options = options
        self.width = width
        self.height = height
        // One slot more than the queue: the consumer holds one while `queueDepth` are decoded
        // ahead, so a decoder never waits for a slot the consumer needs (no deadlock).
        slots = (0...options.queueDepth).map { _ in Slot(width: width, height: height, instances: instances) }
        freeSlots = Array(0...options.queueDepth)
        startCursor = cursor
        lastCursor = cursor
    }

    func start() {
        for number in 0..<options.decodeThreads {
            let thread = Thread { self.decodeLoop() }
            thread.name = "SegmentationLoader decode \(number)"
            thread.start()
        }
    }

    var consumerCursor: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return lastCursor
    }

    var skipped: [RecordsError] {
        condition.lock()
        defer { condition.unlock() }
        return skippedErrors
    }

    /// The next sample, or nil after `epochLimit` epochs. Blocks until the next item in order
    /// is decoded; skipped items are counted as they are passed.
    func next() throws -> Sample? {
        condition.lock()
        defer { condition.unlock() }
        if let held = heldSlot {
            freeSlots.append(held)
            heldSlot = nil
            condition.broadcast()
        }
        while !finished {
            while results[nextToDeliver] == nil { condition.wait() }
            let item = results.removeValue(forKey: nextToDeliver)!
            nextToDeliver += 1
            condition.broadcast()
            switch item {
            case .skipped(let error):
                skippedErrors.append(error)
                consecutiveSkips += 1
                // A stream that never ends would skip a fully damaged set forever.
                if consecutiveSkips >= itemsPerEpoch {
                    finished = true
                    throw RecordsError(
                        file: set.directory.path,
                        reason: .invalidValue(
                            "all \(consecutiveSkips) records of a whole epoch were skipped as damaged, the last: "
                                + "\(error)"))
                }
            case .end:
                finished = true
            case .failure(let error, let stream):
                finished = true
                lastCursor = cursorAfter(stream)
                throw error
            case .sample(let slot, let key, let global, let stream, let split):
                consecutiveSkips = 0
                heldSlot = slot
                lastCursor = cursorAfter(stream)
                return Sample(
                    key: key, globalIndex: global, streamIndex: stream, width: width, height: height,
                    pixels: UnsafeBufferPointer(slots[slot].pixels), label: UnsafeBufferPointer(slots[slot].label),
                    instances: slots[slot].instances.map { UnsafeBufferPointer($0) }, split: split)
            }
        }
        return nil
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func cursorAfter(_ stream: UInt64) -> UInt64 {
        stream - UInt64(options.rank) + UInt64(options.worldSize)
    }

    // MARK: Decoder threads

    /// Claims the next sequence number inside the window [nextToDeliver, nextToDeliver +
    /// queueDepth) together with a free slot; nil when stopping or past the end.
    private func claim() -> (sequence: Int, slot: Int)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopping || nextToClaim >= endSequence { return nil }
            if nextToClaim < nextToDeliver + options.queueDepth, let slot = freeSlots.popLast() {
                nextToClaim += 1
                return (nextToClaim - 1, slot)
            }
            condition.wait()
        }
    }

    private func decodeLoop() {
        let count = UInt64(set.count)
        let digest = set.manifest.contentDigest
        var order: ShuffleOrder?
        var orderEpoch = UInt64.max
        // Records are read with pread into this buffer, not through the shards' memory maps:
        // a shard truncated under a long run is then a damaged record, not a SIGBUS.
        var readBuffer: [UInt8] = []
        while let (sequence, slot) = claim() {
            let stream = startCursor + UInt64(options.rank) + UInt64(sequence) * UInt64(options.worldSize)
            let epoch = stream / count
            if let limit = options.epochLimit, epoch >= limit {
                finish(sequence, .end, returning: slot, endsAt: sequence)
                continue
            }
            if options.shuffle, orderEpoch != epoch {
                order = ShuffleOrder(
                    recordCounts: set.recordCounts, digest: digest, seed: options.seed, epoch: epoch,
                    windowShards: options.windowShards)
                orderEpoch = epoch
            }
            let position = Int(stream % count)
            let global = options.shuffle ? order!.globalIndex(atPosition: position) : position
            do {
                let item = try set.withCopiedSegmentationRecord(at: global, buffer: &readBuffer) { record in
                    guard record.width == width, record.height == height else {
                        throw RecordsError(
                            file: set.directory.path, key: record.key,
                            reason: .invalidValue(
                                "record is \(record.width)×\(record.height), the stream's buffers are "
                                    + "\(width)×\(height)"))
                    }
                    try record.decodeImage(into: slots[slot].pixels)
                    try record.decodeLabel(into: slots[slot].label)
                    if let instances = slots[slot].instances { try record.decodeInstances(into: instances) }
                    return Item.sample(slot: slot, key: record.key, global: global, stream: stream, split: record.split)
                }
                finish(sequence, item)
            } catch {
                let described = Self.describe(error, set: set, global: global)
                if options.corruptionPolicy == .fail {
                    finish(sequence, .failure(described, stream: stream), returning: slot, endsAt: sequence + 1)
                } else {
                    finish(sequence, .skipped(described), returning: slot)
                }
            }
        }
    }

    private func finish(_ sequence: Int, _ item: Item, returning slot: Int? = nil, endsAt end: Int? = nil) {
        condition.lock()
        results[sequence] = item
        if let slot { freeSlots.append(slot) }
        if let end { endSequence = min(endSequence, end) }
        condition.broadcast()
        condition.unlock()
    }

    /// The error with its shard, record and offset filled in, whatever threw it (the key comes
    /// with the error when the record got that far; the memory map is not read for it, since
    /// the shard may have been truncated since it was opened).
    private static func describe(_ error: Error, set: ShardSet, global: Int) -> RecordsError {
        if let error = error as? RecordsError, error.record != nil { return error }
        let (shard, record) = set.location(ofGlobalIndex: global)
        let range = set.shards[shard].index.range(ofRecord: record)
        let reason = (error as? RecordsError)?.reason ?? .invalidValue(String(describing: error))
        return RecordsError(
            file: set.shards[shard].file.url.path, record: record, offset: range.lowerBound,
            key: (error as? RecordsError)?.key, reason: reason)
    }
}
