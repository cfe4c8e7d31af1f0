import Foundation

/// A shard set opened for reading: the manifest, and every listed shard memory-mapped with its
/// index. Records are addressed by a global index (shards in manifest order, records in file
/// order), and their payloads are handed out as views into the maps, without copying.
///
/// Opening checks what is cheap: each shard exists with the manifest's byte size, and its index
/// parses and agrees with the shard and the manifest's record count. Hashes and CRCs are checked
/// by `ShardSetVerifier` (all of them) and by `record(at:)` (the record's own CRCs).
public final class ShardSet: @unchecked Sendable {
    public struct Shard {
        public let entry: Manifest.Shard
        public let file: MappedFile
        public let index: ShardIndex
        /// Global index of this shard's first record.
        public let firstGlobalIndex: Int
    }

    /// A record's payload and where it lives.
    public struct Record {
        /// Points into the shard's memory map; valid while the `ShardSet` lives.
        public let payload: UnsafeRawBufferPointer
        public let shardName: String
        public let recordNumber: Int
        public let offset: Int
    }

    public let directory: URL
    public let manifest: Manifest
    /// The shards read, in manifest order (only those of `split` when one was given).
    public let shards: [Shard]
    /// Number of records over the shards read.
    public let count: Int

    /// Opens `directory`'s manifest and shards; `split` restricts to one split.
    public init(directory: URL, split: String? = nil) throws {
        self.directory = directory
        manifest = try Manifest(directory: directory)
        var shards: [Shard] = []
        var total = 0
        for entry in manifest.shards where split == nil || entry.split == split {
            let shard = try Self.open(entry, in: directory, firstGlobalIndex: total)
            shards.append(shard)
            total += entry.records
        }
        self.shards = shards
        count = total
    }

    private static func open(_ entry: Manifest.Shard, in directory: URL, firstGlobalIndex: Int) throws -> Shard {
        let (url, indexURL) = try entry.files(in: directory)
        let file = try MappedFile(url: url)
        guard file.bytes.count == entry.bytes else {
            throw RecordsError(
                file: url.path,
                reason: .badManifest(
                    "shard is \(file.bytes.count) bytes, the manifest says \(entry.bytes): it changed after the set "
                        + "was written (cut short, still being copied, or replaced); `smisprep verify` checks every "
                        + "record"))
        }
        let index = try ShardIndex(contentsOf: indexURL)
        guard index.count == entry.records, index.shardSize == UInt64(entry.bytes) else {
            throw RecordsError(
                file: indexURL.path,
                reason: .badIndex(
                    "\(index.count) records over \(index.shardSize) bytes, the manifest says \(entry.records) over "
                        + "\(entry.bytes)"))
        }
        return Shard(entry: entry, file: file, index: index, firstGlobalIndex: firstGlobalIndex)
    }

    /// Record counts per shard, in order (what a shuffle order is built from).
    public var recordCounts: [Int] { shards.map { $0.entry.records } }

    /// The shard number and record number of a global index.
    public func location(ofGlobalIndex global: Int) -> (shard: Int, record: Int) {
        precondition(global >= 0 && global < count, "global index \(global) outside 0..<\(count)")
        var low = 0, high = shards.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if shards[middle].firstGlobalIndex <= global { low = middle } else { high = middle - 1 }
        }
        return (low, global - shards[low].firstGlobalIndex)
    }

    /// The record at `global`, its CRCs checked unless `verifyChecksums` is false. Throws
    /// `RecordsError` with shard path, record number, offset and, when the payload still parses,
    /// the key; also when the record does not end where the index says the next one starts.
    public func record(at global: Int, verifyChecksums: Bool = true) throws -> Record {
        guard global >= 0, global < count else {
            throw RecordsError(file: directory.path, reason: .invalidArgument("record \(global) of \(count)"))
        }
        let (shardNumber, recordNumber) = location(ofGlobalIndex: global)
        let shard = shards[shardNumber]
        let range = shard.index.range(ofRecord: recordNumber)
        let path = shard.file.url.path
        do {
            let located = try Self.checkedRecord(
                in: shard.file.bytes, at: range.lowerBound, end: range.upperBound, file: path, record: recordNumber,
                verifyChecksums: verifyChecksums)
            return Record(
                payload: located.payload, shardName: shard.entry.name, recordNumber: recordNumber,
                offset: range.lowerBound)
        } catch var error as RecordsError {
            error.key = Self.bestEffortKey(shard.file.bytes, range: range)
            throw error
        }
    }

    /// The record framed at `offset` of `bytes`, which must end at `end` (where the index says
    /// the next one starts): `TFRecord.read` and that check, as every indexed read does. When
    /// `bytes` hold the file from byte `base` on, errors give offsets in the file.
    public static func checkedRecord(
        in bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, file: String, record: Int,
        verifyChecksums: Bool = true, base: Int = 0
    ) throws -> TFRecord.Located {
        let located: TFRecord.Located
        do {
            located = try TFRecord.read(bytes, at: offset, file: file, record: record, verifyChecksums: verifyChecksums)
        } catch var error as RecordsError {
            error.offset = base + offset
            throw error
        }
        guard located.end == end else {
            throw RecordsError(
                file: file, record: record, offset: base + offset,
                reason: .badIndex("record ends at byte \(base + located.end), the index says \(base + end)"))
        }
        return located
    }

    /// The key of a damaged record when its payload still parses far enough, for reports.
    static func bestEffortKey(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) -> String? {
        guard range.count > TFRecord.overhead, range.upperBound <= bytes.count else { return nil }
        let payload = UnsafeRawBufferPointer(
            rebasing: bytes[(range.lowerBound + TFRecord.headerSize)..<(range.upperBound - TFRecord.footerSize)])
        return try? ExampleView(parsing: payload).string(SegmentationRecord.Field.key)
    }

    /// The segmentation record at `global`, parsed; errors carry shard, record, offset and key.
    public func segmentationRecord(at global: Int, verifyChecksums: Bool = true) throws -> SegmentationRecord.View {
        let record = try self.record(at: global, verifyChecksums: verifyChecksums)
        do {
            return try SegmentationRecord.View(payload: record.payload)
        } catch var error as RecordsError {
            error.file = directory.appendingPathComponent(record.shardName).path
            error.record = record.recordNumber
            error.offset = record.offset
            throw error
        }
    }

    /// The global index of the record whose key is `key`, by a scan of all keys; nil if absent.
    public func globalIndex(ofKey key: String) -> Int? {
        for global in 0..<count {
            if let record = try? self.record(at: global, verifyChecksums: false),
                let candidate = try? ExampleView(parsing: record.payload).string(SegmentationRecord.Field.key),
                candidate == key
            {
                return global
            }
        }
        return nil
    }
}
