/// One value of a `tf.train.Example` feature map: a list of byte strings, floats or int64s.
public enum Feature: Equatable, Sendable {
    case bytes([[UInt8]])
    case floats([Float])
    case int64s([Int64])
}

/// A `tf.train.Example`: a map from feature name to `Feature`, with our own protobuf encoder.
///
/// Wire format (proto3, field numbers from TensorFlow's example.proto and feature.proto):
///
/// | message    | field                                   | tag byte |
/// |------------|-----------------------------------------|----------|
/// | Example    | 1 `features`: Features                  | 0x0A     |
/// | Features   | 1 `feature`: map<string, Feature> entry | 0x0A     |
/// | map entry  | 1 key: string, 2 value: Feature         | 0x0A, 0x12 |
/// | Feature    | 1 BytesList / 2 FloatList / 3 Int64List | 0x0A / 0x12 / 0x1A |
/// | BytesList  | 1 repeated bytes                        | 0x0A each |
/// | FloatList  | 1 packed float (little-endian)          | 0x0A     |
/// | Int64List  | 1 packed int64 (varint, negatives 10 bytes) | 0x0A |
///
/// Encoding writes map entries in ascending byte order of their keys and omits empty packed
/// lists (as protobuf does), so the same features always give the same bytes; protobuf's own
/// map order is unspecified, which would make shards differ from run to run.
public struct Example: Equatable, Sendable {
    public var features: [String: Feature]

    public init(features: [String: Feature] = [:]) {
        self.features = features
    }

    /// The serialized protobuf bytes, keys sorted.
    public func encoded() -> [UInt8] {
        let entries = features.map { (key: Array($0.key.utf8), value: $0.value) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let entrySizes = entries.map { Self.entryBodySize(key: $0.key, feature: $0.value) }
        let featuresSize = entrySizes.reduce(0) { $0 + 1 + ProtobufWire.varintSize(UInt64($1)) + $1 }
        var out = ProtobufWire.Writer(capacity: 1 + ProtobufWire.varintSize(UInt64(featuresSize)) + featuresSize)
        out.lengthDelimitedHeader(field: 1, length: featuresSize)
        for (entry, entrySize) in zip(entries, entrySizes) {
            out.lengthDelimitedHeader(field: 1, length: entrySize)
            out.lengthDelimitedHeader(field: 1, length: entry.key.count)
            out.append(entry.key)
            out.lengthDelimitedHeader(field: 2, length: Self.featureBodySize(entry.value))
            Self.writeFeature(entry.value, to: &out)
        }
        return out.bytes
    }

    // MARK: Sizes computed before writing, so the payload is written once into one buffer

    private static func entryBodySize(key: [UInt8], feature: Feature) -> Int {
        let featureSize = featureBodySize(feature)
        return 1 + ProtobufWire.varintSize(UInt64(key.count)) + key.count
            + 1 + ProtobufWire.varintSize(UInt64(featureSize)) + featureSize
    }

    private static func listBodySize(_ feature: Feature) -> Int {
        switch feature {
        case .bytes(let values):
            return values.reduce(0) { $0 + 1 + ProtobufWire.varintSize(UInt64($1.count)) + $1.count }
        case .floats(let values):
            return values.isEmpty ? 0 : 1 + ProtobufWire.varintSize(UInt64(4 * values.count)) + 4 * values.count
        case .int64s(let values):
            let packed = packedInt64Size(values)
            return values.isEmpty ? 0 : 1 + ProtobufWire.varintSize(UInt64(packed)) + packed
        }
    }

    private static func packedInt64Size(_ values: [Int64]) -> Int {
        values.reduce(0) { $0 + ProtobufWire.varintSize(UInt64(bitPattern: $1)) }
    }

    private static func featureBodySize(_ feature: Feature) -> Int {
        let list = listBodySize(feature)
        return 1 + ProtobufWire.varintSize(UInt64(list)) + list
    }

    private static func writeFeature(_ feature: Feature, to out: inout ProtobufWire.Writer) {
        let listSize = listBodySize(feature)
        switch feature {
        case .bytes(let values):
            out.lengthDelimitedHeader(field: 1, length: listSize)
            for value in values {
                out.lengthDelimitedHeader(field: 1, length: value.count)
                out.append(value)
            }
        case .floats(let values):
            out.lengthDelimitedHeader(field: 2, length: listSize)
            guard !values.isEmpty else { return }
            out.lengthDelimitedHeader(field: 1, length: 4 * values.count)
            for value in values { out.appendLittleEndian(value.bitPattern) }
        case .int64s(let values):
            out.lengthDelimitedHeader(field: 3, length: listSize)
            guard !values.isEmpty else { return }
            out.lengthDelimitedHeader(field: 1, length: packedInt64Size(values))
            for value in values { out.varint(UInt64(bitPattern: value)) }
        }
    }
}

/// Protobuf wire-format primitives shared by the encoder and the zero-copy decoder.
enum ProtobufWire {
    static let varintWireType: UInt64 = 0
    static let fixed64WireType: UInt64 = 1
    static let lengthDelimitedWireType: UInt64 = 2
    static let fixed32WireType: UInt64 = 5

    static func varintSize(_ value: UInt64) -> Int {
        // 7 payload bits per byte; zero still takes one byte.
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    struct Writer {
        var bytes: [UInt8]

        init(capacity: Int) {
            bytes = []
            bytes.reserveCapacity(capacity)
        }

        mutating func varint(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        mutating func lengthDelimitedHeader(field: UInt64, length: Int) {
            varint(field << 3 | lengthDelimitedWireType)
            varint(UInt64(length))
        }

        mutating func append(_ data: [UInt8]) {
            bytes.append(contentsOf: data)
        }

        mutating func appendLittleEndian(_ value: UInt32) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
