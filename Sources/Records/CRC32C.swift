import CRC32CShim

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing.
///
/// Uses the CPU's `crc32` instruction (SSE4.2) when present, otherwise a slicing-by-8 table
/// walk. Both give the same values; the check value of the ASCII bytes "123456789" is
/// 0xE3069283. An empty buffer has checksum 0.
public enum CRC32C {
    /// Whether the hardware instruction is used on this machine.
    public static let usesHardware: Bool = crc32c_shim_hardware_available() != 0

    /// The checksum of `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Extends `crc` (a finished checksum of earlier bytes, or 0) over `bytes`, so that
    /// `update(checksum(a), b) == checksum(a + b)`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        if usesHardware { return ~crc32c_shim_update(~crc, base, bytes.count) }
        return ~softwareUpdate(~crc, bytes)
    }

    /// The table path, public to tests so both paths can be compared on any machine.
    public static func softwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~softwareUpdate(~0, bytes)
    }

    /// TFRecord's masked form: rotate right by 15 bits and add 0xA282EAD8, so that a CRC
    /// stored inside CRC-covered data does not checksum to a constant.
    @inlinable
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The masked checksum of `bytes`, as stored in TFRecord files.
    @inlinable
    public static func maskedChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        masked(checksum(bytes))
    }

    // MARK: Slicing-by-8 fallback

    /// tables[k][b]: the register contribution of byte b followed by k zero bytes.
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F6_3B78 : 0) }
            tables[0][byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[k - 1][byte]
                tables[k][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    private static let flatTable: [UInt32] = tables.flatMap { $0 }

    private static func softwareUpdate(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = register
        var index = 0
        let count = bytes.count
        flatTable.withUnsafeBufferPointer { t in
            while count - index >= 8 {
                let low = bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
        }
        return crc
    }
}
