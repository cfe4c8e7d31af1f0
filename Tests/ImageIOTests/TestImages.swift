import Foundation
import XCTest
import ImageIO
import _TestSupport

/// Deterministic textured pixels shared with the Python script that computed the golden values
/// (channel c of pixel (x, y) = (3x² + 7y + 85c + 5·((x·y) mod 31)) mod 256).
func patternImage(width: Int, height: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 {
                pixels[(y * width + x) * 3 + c] = UInt8(
                    truncatingIfNeeded: x * x * 3 + y * 7 + c * 85 + ((x * y) % 31) * 5)
            }
        }
    }
    return Image(width: width, height: height, pixels: pixels)
}

/// 64-bit FNV-1a, to compare a large output with a hash computed once in Python.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}

/// Mean and largest absolute difference of two equally long byte arrays.
func difference(_ a: [UInt8], _ b: [UInt8]) -> (mean: Double, max: Int) {
    precondition(a.count == b.count)
    var total = 0
    var largest = 0
    for i in 0..<a.count {
        let d = abs(Int(a[i]) - Int(b[i]))
        total += d
        largest = max(largest, d)
    }
    return (a.isEmpty ? 0 : Double(total) / Double(a.count), largest)
}

/// Decodes bytes held in an array.
func decodeImage(_ bytes: [UInt8], source: String = "test", limits: DecodeLimits = .default) throws -> Image {
    try bytes.withUnsafeBytes { try Image(decoding: $0, source: source, limits: limits) }
}

func decodeLabels(_ bytes: [UInt8], source: String = "test", limits: DecodeLimits = .default) throws -> LabelMap {
    try bytes.withUnsafeBytes { try LabelMap(decoding: $0, source: source, limits: limits) }
}

func probe(_ bytes: [UInt8]) throws -> ImageInfo {
    try bytes.withUnsafeBytes { try ImageInfo(probing: $0, source: "test") }
}

/// The folder of fetched conformance files, or a skip naming the command that fetches them.
func conformanceFolder(_ name: String) throws -> URL {
    let folder = TestPaths.cache.appendingPathComponent("conformance").appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: folder.path) else {
        throw XCTSkip("conformance files missing in \(folder.path): run scripts/fetch-conformance")
    }
    return folder
}

func fileBytes(_ url: URL) throws -> [UInt8] { try ImageFile.read(url.path) }

/// Builds PNG files chunk by chunk, for headers no encoder writes (16-bit gray, lying sizes)
/// and for PngSuite's corrupt variants. Image data is stored uncompressed (deflate "stored"
/// blocks), so no zlib is needed here.
enum PNGBuilder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    static func header(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8) -> [UInt8] {
        chunk("IHDR", bigEndian(width) + bigEndian(height) + [bitDepth, colorType, 0, 0, 0])
    }

    /// zlib stream of `data` in stored blocks.
    static func storedZlib(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian(b << 16 | a)
    }

    /// A non-interlaced PNG whose rows (without filter bytes) are `rows`.
    static func png(
        width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]], extra: [UInt8] = []
    ) -> [UInt8] {
        var raw: [UInt8] = []
        for row in rows {
            raw.append(0)
            raw += row
        }
        return signature + header(width: width, height: height, bitDepth: bitDepth, colorType: colorType) + extra
            + chunk("IDAT", storedZlib(raw)) + chunk("IEND", [])
    }

    /// The chunks of a PNG file: (offset of the length field, type, data).
    static func chunks(_ file: [UInt8]) -> [(offset: Int, type: String, data: [UInt8])] {
        var result: [(Int, String, [UInt8])] = []
        var offset = 8
        while offset + 12 <= file.count {
            let length =
                Int(file[offset]) << 24 | Int(file[offset + 1]) << 16 | Int(file[offset + 2]) << 8
                | Int(file[offset + 3])
            let type = String(decoding: file[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= file.count else { break }
            result.append((offset, type, Array(file[(offset + 8)..<(offset + 8 + length)])))
            offset += 12 + length
        }
        return result
    }

    /// The file with the first chunk of `type` replaced (its CRC recomputed unless `keepCRC`).
    static func replacing(_ type: String, in file: [UInt8], with data: [UInt8], keepCRC: Bool = false) -> [UInt8] {
        guard let old = chunks(file).first(where: { $0.type == type }) else { return file }
        var replacement = chunk(type, data)
        if keepCRC {
            replacement.replaceSubrange(
                (replacement.count - 4)...,
                with: file[(old.offset + 8 + old.data.count)..<(old.offset + 12 + old.data.count)])
        }
        var out = file
        out.replaceSubrange(old.offset..<(old.offset + 12 + old.data.count), with: replacement)
        return out
    }

    static func removing(_ type: String, from file: [UInt8]) -> [UInt8] {
        var out = file
        for c in chunks(file).reversed() where c.type == type {
            out.removeSubrange(c.offset..<(c.offset + 12 + c.data.count))
        }
        return out
    }
}
