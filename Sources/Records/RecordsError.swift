/// Why a shard, index, manifest or record could not be read or written.
///
/// Every error names the file, and where it applies the record number (0-based, within the
/// shard), the byte offset of that record's length field, and the record's key when the payload
/// got far enough to have one, so that a report can point at the exact bytes.
public struct RecordsError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// A system call failed (open, read, write, fsync, rename, mmap); the message is the
        /// system's, e.g. "No space left on device".
        case io(String)
        /// The record's length or payload checksum differs from the stored masked CRC32C.
        case checksumMismatch(what: String, stored: UInt32, computed: UInt32)
        /// The file ends inside a record or header.
        case truncated(needed: Int, available: Int)
        /// The payload is not a valid tf.train.Example, or misses or mistypes a field.
        case malformedPayload(String)
        /// An index file is missing, has a bad header, or disagrees with its shard.
        case badIndex(String)
        /// The manifest is missing, unreadable or disagrees with the files beside it.
        case badManifest(String)
        /// A field holds a value outside its documented range (a label value ≥ class count,
        /// sizes that disagree).
        case invalidValue(String)
        /// A caller's argument is out of range (a record number beyond the count).
        case invalidArgument(String)
    }

    /// The file concerned (a shard, index or manifest path), or a description of the input.
    public var file: String
    /// Record number within the shard, when the problem concerns one record.
    public var record: Int?
    /// Byte offset in `file` where the record (or the problem) starts.
    public var offset: Int?
    /// The record's `key` field, when it could be read.
    public var key: String?
    public var reason: Reason

    public init(file: String, record: Int? = nil, offset: Int? = nil, key: String? = nil, reason: Reason) {
        self.file = file
        self.record = record
        self.offset = offset
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var location = file
        if let record { location += " record \(record)" }
        if let offset { location += " at byte \(offset)" }
        if let key { location += " (key \(key))" }
        return "\(location): \(reasonText)"
    }

    var reasonText: String {
        switch reason {
        case .io(let message): return message
        case .checksumMismatch(let what, let stored, let computed):
            return "\(what) checksum mismatch: stored \(hex(stored)), computed \(hex(computed))"
        case .truncated(let needed, let available):
            return "file ends early: the record needs \(needed) bytes from its offset, \(available) are left"
        case .malformedPayload(let message): return "malformed record payload: \(message)"
        case .badIndex(let message): return "bad index: \(message)"
        case .badManifest(let message): return "bad manifest: \(message)"
        case .invalidValue(let message): return "invalid value: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
