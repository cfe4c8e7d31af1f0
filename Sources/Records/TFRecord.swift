import Foundation

/// TFRecord framing, as TensorFlow, DALI and the Python `tfrecord` package read it.
///
/// | bytes  | field                                         |
/// |--------|-----------------------------------------------|
/// | 8      | payload length n, UInt64 little-endian        |
/// | 4      | masked CRC32C of those 8 length bytes         |
/// | n      | payload (here a serialized tf.train.Example)  |
/// | 4      | masked CRC32C of the payload                  |
///
/// Every integer is little-endian. A file is records back to back, with no header.
public enum TFRecord {
    /// Bytes of framing before the payload.
    public static let headerSize = 12
    /// Bytes of framing after the payload.
    public static let footerSize = 4
    /// Total framing per record.
    public static let overhead = headerSize + footerSize

    /// The 12 header bytes for a payload of `length` bytes.
    public static func header(payloadLength length: Int) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerSize)
        header.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(length).littleEndian, toByteOffset: 0, as: UInt64.self)
            let crc = CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: raw[0..<8]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: 8, as: UInt32.self)
        }
        return header
    }

    /// The 4 footer bytes for `payload`.
    public static func footer(payload: UnsafeRawBufferPointer) -> [UInt8] {
        withUnsafeBytes(of: CRC32C.maskedChecksum(payload).littleEndian) { Array($0) }
    }

    /// `payload` framed as one record.
    public static func framed(_ payload: [UInt8]) -> [UInt8] {
        var record = header(payloadLength: payload.count)
        record.reserveCapacity(payload.count + overhead)
        record.append(contentsOf: payload)
        payload.withUnsafeBytes { record.append(contentsOf: footer(payload: $0)) }
        return record
    }

    /// One record located in a buffer: where it starts, and its payload.
    public struct Located {
        /// Offset of the record's length field.
        public var offset: Int
        /// The payload, pointing into the buffer.
        public var payload: UnsafeRawBufferPointer
        /// Offset just past the record's footer.
        public var end: Int { offset + overhead + payload.count }
    }

    /// Reads the record starting at `offset` of `buffer`, checking both CRCs when
    /// `verifyChecksums` (the payload CRC is skipped otherwise; the length CRC never is, since a
    /// wrong length would make every later read wrong).
    ///
    /// Throws `RecordsError` (`.truncated`, `.checksumMismatch`) naming `file`, `record` and
    /// `offset`; the key is left for the caller, who may be able to parse it.
    public static func read(
        _ buffer: UnsafeRawBufferPointer, at offset: Int, file: String, record: Int, verifyChecksums: Bool = true
    ) throws -> Located {
        let available = buffer.count - offset
        guard available >= headerSize else {
            throw RecordsError(
                file: file, record: record, offset: offset,
                reason: .truncated(needed: headerSize, available: max(0, available)))
        }
        let lengthBytes = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + 8)])
        let storedLengthCRC = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let computedLengthCRC = CRC32C.maskedChecksum(lengthBytes)
        guard storedLengthCRC == computedLengthCRC else {
            throw RecordsError(
                file: file, record: record, offset: offset,
                reason: .checksumMismatch(what: "length", stored: storedLengthCRC, computed: computedLengthCRC))
        }
        let length = UInt64(littleEndian: lengthBytes.loadUnaligned(as: UInt64.self))
        guard available >= overhead, length <= UInt64(available - overhead) else {
            // A length near 2⁶³ (read from the file) must not overflow the message's arithmetic.
            let needed = length > UInt64(Int.max - overhead) ? Int.max : Int(length) + overhead
            throw RecordsError(
                file: file, record: record, offset: offset, reason: .truncated(needed: needed, available: available))
        }
        let payloadStart = offset + headerSize
        let payload = UnsafeRawBufferPointer(rebasing: buffer[payloadStart..<(payloadStart + Int(length))])
        if verifyChecksums {
            let stored = UInt32(
                littleEndian: buffer.loadUnaligned(fromByteOffset: payloadStart + Int(length), as: UInt32.self))
            let computed = CRC32C.maskedChecksum(payload)
            guard stored == computed else {
                throw RecordsError(
                    file: file, record: record, offset: offset,
                    reason: .checksumMismatch(what: "payload", stored: stored, computed: computed))
            }
        }
        return Located(offset: offset, payload: payload)
    }
}
