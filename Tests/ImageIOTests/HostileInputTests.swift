import Foundation
import XCTest
import _TestSupport
import ImageIO

/// Inputs built to hang, exhaust memory or mislead: each must end in a per-file error (or,
/// for a tag the tools deliberately ignore, in the stored pixels), quickly and in bounded memory.
final class HostileInputTests: TemporaryFolderTestCase {
    /// Opening a FIFO for reading blocks until a writer comes: it must be refused instead.
    func testAFIFONamedLikeAnImageIsRefusedWithoutBlocking() throws {
        let path = folder.appendingPathComponent("photo.jpg").path
        XCTAssertEqual(mkfifo(path, 0o644), 0)
        XCTAssertThrowsError(try ImageFile.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): unsupported image: not a regular file (a FIFO, socket or device)")
        }
    }

    /// A sparse file costs no disk but would be allocated whole.
    func testAFileOverTheSizeLimitIsRefusedBeforeItIsRead() throws {
        let path = folder.appendingPathComponent("label.png").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([0x89, 0x50, 0x4E, 0x47])))
        XCTAssertEqual(truncate(path, off_t(ImageFile.maximumFileSize + 1)), 0)
        XCTAssertThrowsError(try ImageFile.read(path)) { error in
            XCTAssertTrue("\(error)".contains("image files over 1024 MiB are not read"), "\(error)")
        }
    }

    /// The second scan of a progressive JPEG repeated 600 times: libjpeg only warns about the
    /// inconsistent progression and decodes every scan over the whole image.
    func testAProgressiveJPEGWithHundredsOfScansIsRefused() throws {
        let photo = Image(width: 16, height: 16, pixels: (0..<(16 * 16 * 3)).map { UInt8($0 % 251) })
        let bytes = try photo.encodedProgressiveJPEG(quality: 90)
        XCTAssertNoThrow(try decodePhoto(bytes, "plain"))
        let scans = Self.scanRanges(bytes)
        XCTAssertGreaterThan(scans.count, 2)
        // The bytes of scan 2 together with the tables written just before it.
        let repeated = Array(bytes[scans[0].upperBound..<scans[1].upperBound])
        var hostile = Array(bytes[..<scans[1].upperBound])
        for _ in 0..<600 { hostile += repeated }
        hostile += [0xFF, 0xD9]
        XCTAssertThrowsError(try decodePhoto(hostile, "scans.jpg")) { error in
            XCTAssertTrue("\(error)".contains("more than 500 scans"), "\(error)")
        }
    }

    /// A label map's class ids must survive exactly: TIFF's JPEG compression changes them.
    func testAJPEGCompressedTIFFLabelMapIsRefused() throws {
        let label = LabelMap(width: 16, height: 16, values: (0..<256).map { UInt8($0 % 3) })
        let bytes = try label.encodedTIFF(compression: .jpeg)
        XCTAssertThrowsError(try decodeLabel(bytes, "label.tif")) { error in
            XCTAssertTrue("\(error)".contains("a JPEG-compressed TIFF cannot hold a label map"), "\(error)")
        }
        XCTAssertEqual(try decodeLabel(try label.encodedTIFF(compression: .deflate), "ok.tif"), label)
    }

    /// Tiles of 2048 × 2048 for a 16 × 16 map: a few bytes of file, 4 MB per tile buffer
    /// (32752 × 32752 made a 1 MB file cost 1 GB).
    func testTilesFarLargerThanTheImageAreRefused() throws {
        let label = LabelMap(width: 16, height: 16, values: (0..<256).map { UInt8($0 % 3) })
        let bytes = try label.encodedTIFF(compression: .deflate, layout: .tiles(size: 2048))
        XCTAssertThrowsError(try decodeLabel(bytes, "tiles.tif")) { error in
            XCTAssertTrue("\(error)".contains("tiles of 2048x2048 for a 16x16 image"), "\(error)")
        }
        XCTAssertEqual(try decodeLabel(try label.encodedTIFF(layout: .tiles(size: 16)), "ok.tif"), label)
    }

    /// Orientation = 4 (bottom-left): the photo comes out in stored order, as its label map
    /// (read as raw samples) and as PIL and the parsers see it, so the two still line up.
    func testATIFFPhotoIsReadInStoredOrderWhateverItsOrientationTag() throws {
        let stored: [UInt8] = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]  // 2 × 2 RGB, row 0 first
        for orientation: UInt16 in [1, 2, 3, 4] {
            let image = try decodePhoto(Self.tinyRGBTIFF(stored, orientation: orientation), "o\(orientation).tif")
            XCTAssertEqual(image.pixels, stored, "orientation \(orientation)")
        }
    }

    // MARK: Builders

    private func decodePhoto(_ bytes: [UInt8], _ source: String) throws -> Image {
        try bytes.withUnsafeBytes { try Image(decoding: $0, source: source) }
    }

    private func decodeLabel(_ bytes: [UInt8], _ source: String) throws -> LabelMap {
        try bytes.withUnsafeBytes { try LabelMap(decoding: $0, source: source) }
    }

    /// Where each scan's entropy-coded data ends (the SOS marker's start up to the next marker
    /// that is not a restart marker or a stuffed byte).
    static func scanRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var position = 2
        while position + 4 <= bytes.count, bytes[position] == 0xFF {
            let marker = bytes[position + 1]
            if marker == 0xD9 { break }
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            var end = position + 2 + length
            if marker == 0xDA {
                while end + 1 < bytes.count,
                    !(bytes[end] == 0xFF && bytes[end + 1] != 0 && !(0xD0...0xD7).contains(bytes[end + 1]))
                {
                    end += 1
                }
                ranges.append(position..<end)
            }
            position = end
        }
        return ranges
    }

    /// An uncompressed little-endian 2 × 2 RGB TIFF with the given Orientation tag.
    static func tinyRGBTIFF(_ pixels: [UInt8], orientation: UInt16) -> [UInt8] {
        var out: [UInt8] = [0x49, 0x49, 42, 0]
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((v >> UInt32(shift)) & 0xFF)) }
        }
        let entries: [(tag: UInt16, type: UInt16, count: UInt32, value: UInt32)] = [
            (256, 3, 1, 2), (257, 3, 1, 2), (258, 3, 3, 0 /* offset, set below */), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, 0 /* strip offset */), (274, 3, 1, UInt32(orientation)), (277, 3, 1, 3), (278, 3, 1, 2),
            (279, 4, 1, UInt32(pixels.count)), (284, 3, 1, 1)
        ]
        let ifdOffset: UInt32 = 8
        let ifdSize = UInt32(2 + entries.count * 12 + 4)
        let bitsOffset = ifdOffset + ifdSize, stripOffset = bitsOffset + 6
        u32(ifdOffset)
        u16(UInt16(entries.count))
        for entry in entries {
            u16(entry.tag)
            u16(entry.type)
            u32(entry.count)
            let value = entry.tag == 258 ? bitsOffset : entry.tag == 273 ? stripOffset : entry.value
            u32(value)  // a SHORT value sits in the low two bytes (little-endian)
        }
        u32(0)
        for _ in 0..<3 { u16(8) }
        return out + pixels
    }

    /// A tEXt chunk claiming 2 GB in a file of a few bytes: libpng only warns that the chunk is
    /// too large, then allocated and filled a buffer of the claimed size (seconds and 2 GB per
    /// file; found by `scripts/fuzz png`). Text chunks are now skipped unread; the file is
    /// refused as truncated, and a file with honest text chunks still decodes.
    func testATextChunkClaimingGigabytesIsSkippedUnread() throws {
        let rows: [[UInt8]] = [[10, 20], [30, 40]]
        let lying =
            PNGBuilder.signature + PNGBuilder.header(width: 2, height: 2, bitDepth: 8, colorType: 0)
            + PNGBuilder.bigEndian(0x7A54_5874) + Array("tEXtSoftware\0QR-PNG".utf8)
        let before = Self.peakResidentBytes()
        for _ in 0..<3 {
            XCTAssertThrowsError(try lying.withUnsafeBytes { try LabelMap(decoding: $0, source: "t.png") }) { error in
                XCTAssertTrue("\(error)".contains("t.png"), "\(error)")
            }
        }
        XCTAssertLessThan(Self.peakResidentBytes() - before, 256 << 20, "the claimed size was allocated")

        let text = ["tEXt", "zTXt", "iTXt"].map { PNGBuilder.chunk($0, Array("Comment\0\0\0hello".utf8)) }
        let honest = PNGBuilder.png(
            width: 2, height: 2, bitDepth: 8, colorType: 0, rows: rows, extra: text.joined().map { $0 })
        let map = try honest.withUnsafeBytes { try LabelMap(decoding: $0, source: "t.png") }
        XCTAssertEqual(map.values, [10, 20, 30, 40])
    }

    /// A palette TIFF whose first deflate strip inflates past the strip's end: libtiff (built
    /// with libdeflate) accepts it, reports the whole strip read, and left its last two bytes
    /// unwritten, so two decodes of the file disagreed by whatever the heap held there (found
    /// by `scripts/fuzz label`, `Fuzz/Crashers/label`). The strip buffer is now zeroed first:
    /// the same values whatever the caller's buffer held.
    func testADeflateStripInflatingPastItsEndLeavesNoByteUnwritten() throws {
        let file = TestPaths.repositoryRoot.appendingPathComponent(
            "Fuzz/Crashers/label/deflate-strip-inflating-past-its-end.tif")
        let bytes = try Data(contentsOf: file)
        var decoded: [[UInt8]] = []
        for fill: UInt8 in [0xAA, 0x55] {
            var values = [UInt8](repeating: fill, count: 150 * 103)
            try bytes.withUnsafeBytes { raw in
                try values.withUnsafeMutableBufferPointer {
                    try LabelMap.decode(raw, source: "t.tif", into: $0, width: 150, height: 103)
                }
            }
            decoded.append(values)
        }
        XCTAssertEqual(decoded[0], decoded[1])
        XCTAssertEqual(decoded[0][8096..<8098], [0, 0], "the bytes libdeflate left are zero")
        XCTAssertEqual(try bytes.withUnsafeBytes { try LabelMap(decoding: $0, source: "t.tif") }.values, decoded[0])
    }

    /// The process's peak resident set so far (Linux reports kilobytes).
    private static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
