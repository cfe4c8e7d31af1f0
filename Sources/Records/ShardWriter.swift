import AtomicFiles
import Crypto
import Dispatch
import Foundation
import ImageIO

/// Where a shard set's records come from: one split of numbered inputs. The writer asks for
/// payloads by number, from several threads at once, and writes them in number order.
public struct RecordSource {
    /// Split name used in shard names and the manifest ("train", "validation").
    public var split: String
    /// Number of inputs.
    public var count: Int
    /// A cheap identity of input i that changes when the input changes (for example path, size
    /// and modification time). Hashed per shard: a resumed run rewrites a shard whose inputs
    /// changed.
    public var identity: (Int) -> String
    /// The serialized Example of input i. A thrown error skips the input; it is reported in
    /// the result and nothing else is affected. Called concurrently.
    public var payload: (Int) throws -> [UInt8]
    /// How input i is named when it is skipped, e.g. its file stem; `input I` unless set.
    public var name: (Int) -> String = { "input \($0)" }

    public init(
        split: String, count: Int, identity: @escaping (Int) -> String, payload: @escaping (Int) throws -> [UInt8]
    ) {
        self.split = split
        self.count = count
        self.identity = identity
        self.payload = payload
    }
}

/// How records are grouped into shards. Either way the grouping depends only on the inputs and
/// settings, so a re-run produces the same shards.
public enum ShardSizing: Equatable, Sendable, CustomStringConvertible {
    /// A fixed number of records per shard (the last one may hold fewer).
    case records(Int)
    /// Shards close before the record that would make them exceed this many bytes (a single
    /// larger record still gets a shard of its own).
    case bytes(Int)

    /// The default: shards of at most 256 MB, large enough for sequential reads and small
    /// enough to spread over workers.
    public static let defaultSize = ShardSizing.bytes(256_000_000)

    public var description: String {
        switch self {
        case .records(let count): return "\(count) records"
        case .bytes(let bytes): return "\(bytes) bytes"
        }
    }

    /// A byte count as people write it: "256MB" → 256,000,000, "64MiB" → 67,108,864, "4096" →
    /// 4096 (K, M, G alone are binary). Nil for anything else, zero or a negative size.
    public static func byteCount(parsing text: String) -> Int? {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value > 0, value * Double(factor) < 1e15 else {
                return nil
            }
            let bytes = Int(value * Double(factor))
            return bytes > 0 ? bytes : nil
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }
}

/// Writes a shard set: TFRecord shards, an index beside each, and `manifest.json` last.
///
/// Crash safety: every file is written under a hidden temporary name, fsynced and renamed; after
/// each shard the journal `.shard-journal.json` records it (its input range, the hash of its
/// inputs' identities and settings, and its SHA-256). A re-run with the same settings skips each
/// shard whose inputs are unchanged and whose file still has the journaled hash, and rewrites
/// from the first one that differs. The manifest is removed when a run starts and written
/// atomically when it ends, so a set with a manifest is always complete.
public struct ShardSetWriter {
    public struct Configuration {
        public var directory: URL
        public var sizing: ShardSizing
        /// Encoding threads; output order does not depend on it.
        public var jobs: Int
        public var toolVersion: String
        public var schema: String
        public var classes: [String]
        /// Stored in the manifest, and part of the resume fingerprint: changing any setting
        /// rewrites every shard.
        public var settings: [String: String]
        public var pipeline: String?
        /// Called on the calling thread after each shard is written or kept, for a progress
        /// display; writing a large set takes minutes.
        public var progress: ((ShardProgress) -> Void)?

        public init(
            directory: URL, sizing: ShardSizing, jobs: Int = 1, toolVersion: String, schema: String,
            classes: [String], settings: [String: String], pipeline: String? = nil
        ) {
            self.directory = directory
            self.sizing = sizing
            self.jobs = max(1, jobs)
            self.toolVersion = toolVersion
            self.schema = schema
            self.classes = classes
            self.settings = settings
            self.pipeline = pipeline
        }
    }

    /// Where a `write` stands after one more shard.
    public struct ShardProgress: Equatable, Sendable {
        /// The shard just finished, e.g. `train-00003.tfrecord`.
        public var shard: String
        /// True when an earlier run's shard was kept rather than written.
        public var reused: Bool
        /// Inputs covered so far and in all, over every source.
        public var inputsDone: Int
        public var inputsTotal: Int
    }

    public struct Result {
        public var manifest: Manifest
        /// Shards written by this run.
        public var shardsWritten: Int
        /// Shards kept from an earlier run (hash and inputs unchanged).
        public var shardsReused: Int
        public var recordsWritten: Int
        public var bytesWritten: Int
        /// Every input that was not written, in input order, including those from reused shards;
        /// named by `RecordSource.name`.
        public var skipped: [SkippedSample]
        /// Shard and index files of an earlier run that this set does not list (other
        /// settings, fewer samples, a split that is gone), removed so that readers globbing
        /// `train-*.tfrecord` do not read them.
        public var staleFilesRemoved: [String] = []
    }

    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Writes every source's split, then the manifest. Throws `RecordsError` on I/O failure (a
    /// full disk included); completed shards stay valid for a resume, partial ones are deleted.
    @discardableResult
    public func write(_ sources: [RecordSource], statistics: JSONValue = .object([:])) throws -> Result {
        let directory = configuration.directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordsError(
                file: directory.path, reason: .io("cannot create directory: \(error.localizedDescription)"))
        }
        unlink(directory.appendingPathComponent(Manifest.fileName).path)
        AtomicFileWriter.removeAbandonedTemporaries(in: directory.path)  // shards of a killed run
        var journal = ShardJournal.load(from: directory, settingsFingerprint: settingsFingerprint)
        var result = Result(
            manifest: emptyManifest(), shardsWritten: 0, shardsReused: 0, recordsWritten: 0,
            bytesWritten: 0, skipped: [])
        var shards: [Manifest.Shard] = []
        let total = sources.reduce(0) { $0 + $1.count }
        var done = 0
        for source in sources {
            shards += try writeSplit(source, journal: &journal, result: &result) { shard, reused, endInput in
                configuration.progress?(
                    ShardProgress(shard: shard, reused: reused, inputsDone: done + endInput, inputsTotal: total))
            }
            done += source.count
        }
        try journal.save(to: directory)
        result.staleFilesRemoved = removeShardFiles(
            notIn: shards, splits: Set(sources.map(\.split)).union(Self.commonSplits))
        var manifest = emptyManifest()
        manifest.shards = shards
        manifest.statistics = statistics
        try manifest.write(to: directory)
        result.manifest = manifest
        return result
    }

    /// Split names a set of this writer may have held before (a split that is gone today is
    /// not among the sources any more).
    static let commonSplits: Set<String> = ["train", "validation", "test"]

    /// Deletes the files in the output folder named like this writer's shards or their
    /// indexes (`SPLIT-NNNNN.tfrecord`, `SPLIT-NNNNN.index`, SPLIT one of `splits`) that
    /// `shards` does not list; returns their names. Files of any other name, other datasets'
    /// `imagenet-00001.tfrecord` included, are left alone.
    private func removeShardFiles(notIn shards: [Manifest.Shard], splits: Set<String>) -> [String] {
        let directory = configuration.directory
        let current = Set(shards.flatMap { [$0.name, $0.index] })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var removed: [String] = []
        for name in names.sorted()
        where !current.contains(name) && Self.isShardFileName(name)
            && splits.contains(String(name[..<name.lastIndex(of: "-")!]))
        {
            if unlink(directory.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// `SPLIT-NNNNN.tfrecord` or `SPLIT-NNNNN.index`: a split name, a dash, at least five digits.
    public static func isShardFileName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), [".tfrecord", ".index"].contains(String(name[dot...])),
            let dash = name[..<dot].lastIndex(of: "-"), dash > name.startIndex
        else { return false }
        let digits = name[name.index(after: dash)..<dot]
        return digits.count >= 5 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private func emptyManifest() -> Manifest {
        Manifest(
            toolVersion: configuration.toolVersion, schema: configuration.schema, classes: configuration.classes,
            settings: configuration.settings, shards: [], pipeline: configuration.pipeline, statistics: .object([:]))
    }

    private var settingsFingerprint: String {
        var text =
            "schema=\(configuration.schema)\nsizing=\(configuration.sizing)\nclasses=\(configuration.classes.joined(separator: ","))\n"
        for (key, value) in configuration.settings.sorted(by: { $0.key < $1.key }) { text += "\(key)=\(value)\n" }
        return FileIO.hex(SHA256.hash(data: Array(text.utf8)))
    }

    public static func shardName(split: String, number: Int) -> String {
        let digits = String(number)
        return "\(split)-\(String(repeating: "0", count: max(0, 5 - digits.count)))\(digits).tfrecord"
    }

    // MARK: One split

    private func writeSplit(
        _ source: RecordSource, journal: inout ShardJournal, result: inout Result,
        finished: (_ shard: String, _ reused: Bool, _ endInput: Int) -> Void
    ) throws -> [Manifest.Shard] {
        var shards: [Manifest.Shard] = []
        var encoder = BatchEncoder(source: source, jobs: configuration.jobs)
        var nextInput = 0
        var number = 0
        var reusing = true
        var replaced: [ShardJournal.Entry] = []
        while nextInput < source.count {
            let name = Self.shardName(split: source.split, number: number)
            // The range check first: the journal may describe a longer set than today's.
            if reusing, let entry = journal.entry(named: name), entry.firstInput == nextInput,
                entry.endInput <= source.count,
                entry.inputDigest == inputDigest(source, entry.firstInput..<entry.endInput),
                reusable(entry.shard)
            {
                shards.append(entry.shard)
                result.shardsReused += 1
                result.skipped += entry.skippedSamples(of: source)
                nextInput = entry.endInput
                encoder.restart(at: nextInput)
                finished(name, true, nextInput)
            } else {
                reusing = false
                replaced += journal.removeEntries(split: source.split, fromNumber: number)
                let entry = try writeShard(name: name, split: source.split, encoder: &encoder)
                journal.entries.append(entry)
                try journal.save(to: configuration.directory)
                shards.append(entry.shard)
                result.shardsWritten += 1
                result.recordsWritten += entry.shard.records
                result.bytesWritten += entry.shard.bytes
                result.skipped += entry.skippedSamples(of: source)
                nextInput = entry.endInput
                finished(name, false, nextInput)
            }
            number += 1
        }
        // Shards of an earlier, longer run that this run no longer produces.
        replaced += journal.removeEntries(split: source.split, fromNumber: number)
        let current = Set(shards.map(\.name))
        for stale in replaced where !current.contains(stale.shard.name) {
            unlink(configuration.directory.appendingPathComponent(stale.shard.name).path)
            unlink(configuration.directory.appendingPathComponent(stale.shard.index).path)
        }
        return shards
    }

    private func reusable(_ shard: Manifest.Shard) -> Bool {
        let url = configuration.directory.appendingPathComponent(shard.name)
        let indexURL = configuration.directory.appendingPathComponent(shard.index)
        guard let index = try? ShardIndex(contentsOf: indexURL), index.count == shard.records,
            index.shardSize == UInt64(shard.bytes),
            let hash = try? FileIO.sha256Hex(of: url)
        else { return false }
        return hash == shard.sha256
    }

    private func inputDigest(_ source: RecordSource, _ range: Range<Int>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(settingsFingerprint.utf8))
        for i in range { hasher.update(data: Array("\(source.identity(i))\n".utf8)) }
        return FileIO.hex(hasher.finalize())
    }

    private func writeShard(name: String, split: String, encoder: inout BatchEncoder) throws -> ShardJournal.Entry {
        let directory = configuration.directory
        let shardFile = try AtomicFileWriter(path: directory.appendingPathComponent(name).path)
        let firstInput = encoder.nextInput
        var offsets: [UInt64] = []
        var skipped: [ShardJournal.Skip] = []
        var hasher = SHA256()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8 << 20)
        var size = 0
        func flush() throws {
            try shardFile.write(buffer)
            hasher.update(data: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        recordLoop: while let (input, outcome) = encoder.peek() {
            switch outcome {
            case .failure(let error):
                skipped.append(ShardJournal.Skip(split: split, input: input, reason: String(describing: error)))
            case .success(let payload):
                if isFull(records: offsets.count, bytes: size, adding: payload.count + TFRecord.overhead) {
                    break recordLoop
                }
                offsets.append(UInt64(size))
                buffer += TFRecord.header(payloadLength: payload.count)
                buffer += payload
                payload.withUnsafeBytes { buffer += TFRecord.footer(payload: $0) }
                size += payload.count + TFRecord.overhead
                if buffer.count >= 4 << 20 { try flush() }
            }
            encoder.advance()
        }
        try flush()
        let indexName = ShardIndex.fileName(forShard: name)
        let indexFile = try AtomicFileWriter(path: directory.appendingPathComponent(indexName).path)
        try indexFile.write(ShardIndex(offsets: offsets, shardSize: UInt64(size)).encoded())
        // The index first: a shard under its final name always has its index beside it.
        try indexFile.commit()
        try shardFile.commit()
        let shard = Manifest.Shard(
            name: name, index: indexName, split: split, records: offsets.count, bytes: size,
            sha256: FileIO.hex(hasher.finalize()))
        return ShardJournal.Entry(
            shard: shard, firstInput: firstInput, endInput: encoder.nextInput,
            inputDigest: inputDigest(encoder.source, firstInput..<encoder.nextInput), skipped: skipped)
    }

    private func isFull(records: Int, bytes: Int, adding recordBytes: Int) -> Bool {
        switch configuration.sizing {
        case .records(let limit): return records >= limit
        case .bytes(let limit): return records > 0 && bytes + recordBytes > limit
        }
    }
}

/// Encodes inputs in batches on `jobs` threads, handing results out strictly in input order.
/// While the writer consumes one batch, the next is already being encoded (encoding and
/// writing overlap; the order, and so the output, does not change).
struct BatchEncoder {
    let source: RecordSource
    let jobs: Int
    private(set) var nextInput = 0
    private var batchStart = 0
    private var batch: [Swift.Result<[UInt8], Error>] = []
    private var ahead: BatchInFlight?

    /// A batch being encoded in the background; `results` is read only after `group.wait()`.
    private final class BatchInFlight {
        let start: Int
        let group = DispatchGroup()
        var results: [Swift.Result<[UInt8], Error>] = []
        init(start: Int) { self.start = start }
    }

    init(source: RecordSource, jobs: Int) {
        self.source = source
        self.jobs = jobs
    }

    mutating func restart(at input: Int) {
        ahead?.group.wait()
        ahead = nil
        nextInput = input
        batchStart = input
        batch = []
    }

    /// The next input's number and outcome, encoding a new batch when needed; nil at the end.
    mutating func peek() -> (Int, Swift.Result<[UInt8], Error>)? {
        guard nextInput < source.count else { return nil }
        if nextInput - batchStart >= batch.count { takeBatch() }
        return (nextInput, batch[nextInput - batchStart])
    }

    mutating func advance() { nextInput += 1 }

    private var batchSize: Int { jobs * 8 }

    private mutating func takeBatch() {
        let start = nextInput
        if let ahead, ahead.start == start {
            ahead.group.wait()
            batch = ahead.results
        } else {
            ahead?.group.wait()
            batch = Self.encode(source, from: start, count: min(source.count - start, batchSize), jobs: jobs)
        }
        batchStart = start
        ahead = nil
        let nextStart = start + batch.count
        guard nextStart < source.count else { return }
        let inFlight = BatchInFlight(start: nextStart)
        let (source, jobs, count) = (self.source, self.jobs, min(source.count - nextStart, batchSize))
        DispatchQueue.global().async(group: inFlight.group) {
            inFlight.results = Self.encode(source, from: nextStart, count: count, jobs: jobs)
        }
        ahead = inFlight
    }

    private static func encode(
        _ source: RecordSource, from start: Int, count: Int, jobs: Int
    ) -> [Swift.Result<[UInt8], Error>] {
        let results = UnsafeMutableBufferPointer<Swift.Result<[UInt8], Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        // Worker w encodes inputs w, w + jobs, …; each slot is written by exactly one worker.
        DispatchQueue.concurrentPerform(iterations: min(jobs, count)) { worker in
            for offset in stride(from: worker, to: count, by: jobs) {
                results[offset] = Swift.Result { try source.payload(start + offset) }
            }
        }
        return results.map { $0! }
    }
}
