import Foundation

/// A parsed `tf.train.Example` that points into the payload bytes instead of copying them.
///
/// Valid only while the memory it was parsed from is alive and unchanged (for shards, while
/// the `ShardSet` that mapped them is alive). Accepts what any protobuf writer produces: packed
/// or unpacked repeated numbers, any map order, unknown fields (skipped); a key that appears
/// twice resolves to its last occurrence, as protobuf's map semantics say.
public struct ExampleView {
    /// What kind of list a feature holds.
    public enum Kind: Sendable { case bytes, floats, int64s, empty }

    struct Field {
        var key: UnsafeRawBufferPointer
        var kind: Kind
        /// The body of the BytesList / FloatList / Int64List message.
        var list: UnsafeRawBufferPointer
    }

    private(set) var fields: [Field] = []

    /// Parses `payload`. Throws `RecordsError` with reason `.malformedPayload` on bad wire data;
    /// the caller fills in file, record and offset.
    public init(parsing payload: UnsafeRawBufferPointer) throws {
        var example = ProtobufReader(payload)
        fields.reserveCapacity(12)
        while let (field, wireType) = try example.nextTag() {
            guard field == 1, wireType == ProtobufWire.lengthDelimitedWireType else {
                try example.skip(wireType: wireType)
                continue
            }
            var features = ProtobufReader(try example.lengthDelimited())
            while let (entryField, entryWire) = try features.nextTag() {
                guard entryField == 1, entryWire == ProtobufWire.lengthDelimitedWireType else {
                    try features.skip(wireType: entryWire)
                    continue
                }
                fields.append(try Self.parseEntry(try features.lengthDelimited()))
            }
        }
    }

    private static func parseEntry(_ bytes: UnsafeRawBufferPointer) throws -> Field {
        var entry = ProtobufReader(bytes)
        var parsed = Field(
            key: UnsafeRawBufferPointer(start: nil, count: 0), kind: .empty,
            list: UnsafeRawBufferPointer(start: nil, count: 0))
        while let (field, wireType) = try entry.nextTag() {
            switch (field, wireType) {
            case (1, ProtobufWire.lengthDelimitedWireType):
                parsed.key = try entry.lengthDelimited()
            case (2, ProtobufWire.lengthDelimitedWireType):
                var feature = ProtobufReader(try entry.lengthDelimited())
                while let (kindField, kindWire) = try feature.nextTag() {
                    guard kindWire == ProtobufWire.lengthDelimitedWireType, (1...3).contains(kindField) else {
                        try feature.skip(wireType: kindWire)
                        continue
                    }
                    parsed.list = try feature.lengthDelimited()
                    parsed.kind = kindField == 1 ? .bytes : kindField == 2 ? .floats : .int64s
                }
            default:
                try entry.skip(wireType: wireType)
            }
        }
        return parsed
    }

    /// Feature names in payload order.
    public var keys: [String] {
        fields.map { String(decoding: $0.key, as: UTF8.self) }
    }

    func field(_ key: String) -> Field? {
        var utf8Key = key
        return utf8Key.withUTF8 { wanted in
            fields.last { field in
                field.key.count == wanted.count
                    && (wanted.count == 0 || memcmp(field.key.baseAddress!, wanted.baseAddress!, wanted.count) == 0)
            }
        }
    }

    /// The kind of list stored under `key`, nil when absent.
    public func kind(of key: String) -> Kind? { field(key)?.kind }

    /// The byte strings under `key`, pointing into the payload. Throws when the key is absent
    /// or holds numbers.
    public func bytesList(_ key: String) throws -> [UnsafeRawBufferPointer] {
        guard let field = field(key) else { throw missing(key) }
        guard field.kind == .bytes || field.kind == .empty else { throw wrongKind(key, field.kind, "bytes") }
        var list = ProtobufReader(field.list)
        var values: [UnsafeRawBufferPointer] = []
        while let (number, wireType) = try list.nextTag() {
            if number == 1, wireType == ProtobufWire.lengthDelimitedWireType {
                values.append(try list.lengthDelimited())
            } else {
                try list.skip(wireType: wireType)
            }
        }
        return values
    }

    /// The single byte string under `key`; throws unless there is exactly one.
    public func bytes(_ key: String) throws -> UnsafeRawBufferPointer {
        let values = try bytesList(key)
        guard values.count == 1 else {
            throw RecordsError(
                file: "", reason: .malformedPayload("feature \"\(key)\" holds \(values.count) byte strings, expected 1")
            )
        }
        return values[0]
    }

    /// The single byte string under `key` as UTF-8 text.
    public func string(_ key: String) throws -> String {
        String(decoding: try bytes(key), as: UTF8.self)
    }

    /// The int64 values under `key`, packed or not.
    public func int64s(_ key: String) throws -> [Int64] {
        guard let field = field(key) else { throw missing(key) }
        guard field.kind == .int64s || field.kind == .empty else { throw wrongKind(key, field.kind, "int64") }
        var list = ProtobufReader(field.list)
        var values: [Int64] = []
        while let (number, wireType) = try list.nextTag() {
            if number == 1, wireType == ProtobufWire.lengthDelimitedWireType {
                var packed = ProtobufReader(try list.lengthDelimited())
                while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint())) }
            } else if number == 1, wireType == ProtobufWire.varintWireType {
                values.append(Int64(bitPattern: try list.varint()))
            } else {
                try list.skip(wireType: wireType)
            }
        }
        return values
    }

    /// The single int64 under `key`; throws unless there is exactly one.
    public func int64(_ key: String) throws -> Int64 {
        let values = try int64s(key)
        guard values.count == 1 else {
            throw RecordsError(
                file: "", reason: .malformedPayload("feature \"\(key)\" holds \(values.count) integers, expected 1"))
        }
        return values[0]
    }

    /// The float values under `key`, packed or not.
    public func floats(_ key: String) throws -> [Float] {
        guard let field = field(key) else { throw missing(key) }
        guard field.kind == .floats || field.kind == .empty else { throw wrongKind(key, field.kind, "float") }
        var list = ProtobufReader(field.list)
        var values: [Float] = []
        while let (number, wireType) = try list.nextTag() {
            if number == 1, wireType == ProtobufWire.lengthDelimitedWireType {
                let packed = try list.lengthDelimited()
                guard packed.count % 4 == 0 else {
                    throw RecordsError(
                        file: "", reason: .malformedPayload("packed floats of \(packed.count) bytes in \"\(key)\""))
                }
                for offset in stride(from: 0, to: packed.count, by: 4) {
                    values.append(
                        Float(
                            bitPattern: UInt32(
                                littleEndian: packed.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
                }
            } else if number == 1, wireType == ProtobufWire.fixed32WireType {
                values.append(Float(bitPattern: try list.fixed32()))
            } else {
                try list.skip(wireType: wireType)
            }
        }
        return values
    }

    /// A copying conversion to `Example`, for tools and tests.
    public func materialized() throws -> Example {
        var example = Example()
        for field in fields {
            let key = String(decoding: field.key, as: UTF8.self)
            switch field.kind {
            case .bytes, .empty: example.features[key] = .bytes(try bytesList(key).map { Array($0) })
            case .floats: example.features[key] = .floats(try floats(key))
            case .int64s: example.features[key] = .int64s(try int64s(key))
            }
        }
        return example
    }

    private func missing(_ key: String) -> RecordsError {
        RecordsError(file: "", reason: .malformedPayload("missing feature \"\(key)\""))
    }

    private func wrongKind(_ key: String, _ kind: Kind, _ expected: String) -> RecordsError {
        RecordsError(file: "", reason: .malformedPayload("feature \"\(key)\" holds \(kind), expected \(expected)"))
    }
}

extension Example {
    /// Parses serialized bytes into an owning `Example` (copies every value).
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try ExampleView(parsing: $0).materialized() }
    }
}

/// A bounds-checked cursor over protobuf wire data.
struct ProtobufReader {
    private let data: UnsafeRawBufferPointer
    private var position = 0

    init(_ data: UnsafeRawBufferPointer) { self.data = data }

    var isAtEnd: Bool { position >= data.count }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < data.count else { throw malformed("varint runs past the end") }
            let byte = data[position]
            position += 1
            guard shift < 64 else { throw malformed("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// The next (field number, wire type), or nil at the end.
    mutating func nextTag() throws -> (UInt64, UInt64)? {
        guard !isAtEnd else { return nil }
        let tag = try varint()
        guard tag >> 3 != 0 else { throw malformed("field number 0") }
        return (tag >> 3, tag & 7)
    }

    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(data.count - position) else {
            throw malformed("length \(length) runs past the end (\(data.count - position) bytes left)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: data[position..<(position + Int(length))])
        position += Int(length)
        return slice
    }

    mutating func fixed32() throws -> UInt32 {
        guard data.count - position >= 4 else { throw malformed("fixed32 runs past the end") }
        defer { position += 4 }
        return UInt32(littleEndian: data.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func skip(wireType: UInt64) throws {
        switch wireType {
        case ProtobufWire.varintWireType: _ = try varint()
        case ProtobufWire.fixed64WireType:
            guard data.count - position >= 8 else { throw malformed("fixed64 runs past the end") }
            position += 8
        case ProtobufWire.lengthDelimitedWireType: _ = try lengthDelimited()
        case ProtobufWire.fixed32WireType: _ = try fixed32()
        default: throw malformed("unsupported wire type \(wireType)")
        }
    }

    private func malformed(_ message: String) -> RecordsError {
        RecordsError(file: "", reason: .malformedPayload("\(message) at payload byte \(position)"))
    }
}
