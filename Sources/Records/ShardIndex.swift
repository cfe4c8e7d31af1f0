import Foundation

/// The index stored next to each shard (`NAME.tfrecord` → `NAME.index`): where every record
/// starts, so a reader can jump to record i without scanning, and can resynchronise after a
/// corrupt record instead of losing the rest of the file.
///
/// Binary layout, every integer little-endian:
///
/// | offset  | bytes | field                                                        |
/// |---------|-------|--------------------------------------------------------------|
/// | 0       | 8     | magic, ASCII "SMISRIDX"                                      |
/// | 8       | 4     | format version, UInt32 = 1                                   |
/// | 12      | 4     | reserved, 0                                                  |
/// | 16      | 8     | record count n, UInt64                                       |
/// | 24      | 8     | byte size of the shard, UInt64                               |
/// | 32      | 8·n   | offset of each record's length field, UInt64, ascending      |
/// | 32+8·n  | 4     | masked CRC32C of all preceding bytes of this file            |
///
/// Offsets are 64-bit so a shard may exceed 4 GiB. Record i spans
/// `offsets[i] ..< offsets[i+1]` (the last one ends at the shard size).
public struct ShardIndex: Equatable, Sendable {
    public static let magic: [UInt8] = Array("SMISRIDX".utf8)
    public static let version: UInt32 = 1
    static let headerSize = 32

    /// Offset of each record's length field.
    public var offsets: [UInt64]
    /// Byte size of the shard the offsets describe.
    public var shardSize: UInt64

    public init(offsets: [UInt64], shardSize: UInt64) {
        self.offsets = offsets
        self.shardSize = shardSize
    }

    public var count: Int { offsets.count }

    /// The byte range of record `i` in the shard.
    public func range(ofRecord i: Int) -> Range<Int> {
        Int(offsets[i])..<Int(i + 1 < offsets.count ? offsets[i + 1] : shardSize)
    }

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.headerSize + 8 * offsets.count + 4)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        append(Self.version)
        append(UInt32(0))
        append(UInt64(offsets.count))
        append(shardSize)
        for offset in offsets { append(offset) }
        append(CRC32C.masked(CRC32C.checksum(bytes)))
        return bytes
    }

    /// Parses index bytes; `file` names the index in errors. Checks magic, version, length,
    /// checksum, and that offsets ascend and stay inside the shard.
    public init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        func bad(_ message: String) -> RecordsError { RecordsError(file: file, reason: .badIndex(message)) }
        guard bytes.count >= Self.headerSize + 4 else { throw bad("\(bytes.count) bytes, shorter than the header") }
        guard Array(bytes[0..<8]) == Self.magic else { throw bad("wrong magic (not a SMIS record index)") }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == Self.version else { throw bad("version \(version), this reader knows \(Self.version)") }
        let count = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        // The count is bounded before the size is computed from it (a count near 2⁶¹ overflowed).
        guard count < UInt64(Int.max / 8) else { throw bad("a count of \(count) records is no index's") }
        let expectedSize = UInt64(Self.headerSize) + 8 * count + 4
        guard UInt64(bytes.count) == expectedSize else {
            throw bad("\(bytes.count) bytes, but a count of \(count) needs \(expectedSize)")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
        let computed = CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)]))
        guard stored == computed else {
            throw RecordsError(file: file, reason: .checksumMismatch(what: "index", stored: stored, computed: computed))
        }
        shardSize = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        offsets = (0..<Int(count)).map {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: Self.headerSize + 8 * $0, as: UInt64.self))
        }
        guard shardSize <= UInt64(Int.max) else { throw bad("shard size \(shardSize) is not a file size") }
        var previousEnd: UInt64 = 0
        for (i, offset) in offsets.enumerated() {
            // Compared without adding to `offset`, which the file may set near 2⁶⁴.
            guard offset >= previousEnd, shardSize >= UInt64(TFRecord.overhead),
                offset <= shardSize - UInt64(TFRecord.overhead)
            else {
                throw bad("offset \(offset) of record \(i) is out of order or past the shard's \(shardSize) bytes")
            }
            previousEnd = offset + UInt64(TFRecord.overhead)
        }
    }

    /// Reads and parses an index file.
    public init(contentsOf url: URL) throws {
        // Through MappedFile, which refuses what is not a regular file (a FIFO, /dev/zero).
        let file: MappedFile
        do { file = try MappedFile(url: url) } catch let error as RecordsError {
            throw RecordsError(file: url.path, reason: .badIndex("cannot read: \(error.reasonText)"))
        }
        self = try ShardIndex(decoding: file.bytes, file: url.path)
    }

    /// The index file name for a shard file name (`train-00000.tfrecord` → `train-00000.index`).
    public static func fileName(forShard shardName: String) -> String {
        (shardName.hasSuffix(".tfrecord") ? String(shardName.dropLast(".tfrecord".count)) : shardName) + ".index"
    }
}
