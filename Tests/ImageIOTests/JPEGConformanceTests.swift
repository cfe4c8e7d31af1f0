import Foundation
import XCTest
import ImageIO

/// JPEG variants from Go's image test data, each checked against Go's own decode of it
/// (an independent decoder) where one is shipped, and baseline against progressive.
final class JPEGConformanceTests: XCTestCase {
    func reference(_ folder: URL, _ name: String) throws -> Image {
        try Image(contentsOfFile: folder.appendingPathComponent(name).path)
    }

    func testVariantsMatchGoReferenceDecodes() throws {
        let folder = try conformanceFolder("jpeg")
        // (jpeg, reference png, largest allowed mean absolute difference)
        let pairs: [(String, String, Double)] = [
            ("video-001.jpeg", "video-001.png", 1.5),
            ("video-001.progressive.jpeg", "video-001.png", 1.5),
            // Subsampled RGB (no YCbCr): Go upsamples by replication, libjpeg interpolates, so
            // edges differ; PIL's decode differs from Go's by the same 4.19 mean.
            ("video-001.rgb.jpeg", "video-001.rgb.png", 4.3),
            ("video-001.221212.jpeg", "video-001.221212.png", 1.5),
            ("video-001.cmyk.jpeg", "video-001.cmyk.png", 2.0),
            ("video-005.gray.jpeg", "video-005.gray.png", 1.0)
        ]
        for (jpeg, png, tolerance) in pairs {
            let decoded = try reference(folder, jpeg)
            let expected = try reference(folder, png)
            XCTAssertEqual([decoded.width, decoded.height], [expected.width, expected.height], jpeg)
            let diff = difference(decoded.pixels, expected.pixels)
            XCTAssertLessThan(diff.mean, tolerance, "\(jpeg): mean difference \(diff.mean), max \(diff.max)")
        }
    }

    func testProgressiveEqualsBaselineForEverySubsampling() throws {
        let folder = try conformanceFolder("jpeg")
        let base = try reference(folder, "video-001.png")
        for sampling in ["410", "411", "420", "422", "440", "444"] {
            let baseline = try reference(folder, "video-001.q50.\(sampling).jpeg")
            let progressive = try reference(folder, "video-001.q50.\(sampling).progressive.jpeg")
            XCTAssertTrue(
                try ImageInfo(
                    contentsOfFile: folder.appendingPathComponent("video-001.q50.\(sampling).progressive.jpeg").path
                ).isInterlaced)
            XCTAssertEqual(baseline, progressive, sampling)
            XCTAssertLessThan(
                difference(baseline.pixels, base.pixels).mean, 8,
                "\(sampling) at quality 50 still resembles the original")
        }
        for name in ["video-005.gray.q50", "video-005.gray.q50.2x2", "video-001.separate.dc.progression"] {
            XCTAssertEqual(
                try reference(folder, "\(name).jpeg"), try reference(folder, "\(name).progressive.jpeg"), name)
        }
    }

    func testCMYKAndGrayHeadersAreReported() throws {
        let folder = try conformanceFolder("jpeg")
        XCTAssertEqual(
            try ImageInfo(contentsOfFile: folder.appendingPathComponent("video-001.cmyk.jpeg").path).colorModel, .cmyk)
        XCTAssertEqual(
            try ImageInfo(contentsOfFile: folder.appendingPathComponent("video-005.gray.jpeg").path).colorModel, .gray)
    }

    /// Go's "truncated" progressive file drops the refinement scans but keeps its end marker:
    /// a valid, coarser image, which must match Go's decode of it.
    func testProgressiveFileWithMissingScansMatchesGo() throws {
        let folder = try conformanceFolder("jpeg")
        let decoded = try reference(folder, "video-001.progressive.truncated.jpeg")
        let expected = try reference(folder, "video-001.progressive.truncated.png")
        XCTAssertLessThan(difference(decoded.pixels, expected.pixels).mean, 1.5)
    }

    /// A progressive file cut inside a scan: libjpeg would pad it with grey and warn; we throw.
    func testProgressiveCutInsideAScanThrowsAsTruncated() throws {
        let folder = try conformanceFolder("jpeg")
        let bytes = try fileBytes(folder.appendingPathComponent("video-001.progressive.jpeg"))
        XCTAssertThrowsError(try decodeImage(Array(bytes.prefix(bytes.count * 2 / 3)), source: "cut.jpg")) { error in
            guard let error = error as? ImageIOError, case .corrupt(let message) = error.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(error.source, "cut.jpg")
            XCTAssertTrue(message.contains("truncated"), message)
        }
    }

    func testTruncatedBaselineAtManyCutsThrowsAndNeverCrashes() throws {
        let bytes = try patternImage(width: 64, height: 40).encodedJPEG(quality: 90)
        for cut in stride(from: 0, to: bytes.count - 2, by: max(1, bytes.count / 60)) {
            XCTAssertThrowsError(try decodeImage(Array(bytes.prefix(cut)), source: "cut at \(cut)"), "cut at \(cut)")
        }
    }

    /// Damage inside the entropy-coded data decodes with warnings, which are reported, and
    /// which `treatWarningsAsErrors` turns into an error.
    /// Damaged entropy-coded data is an error: libjpeg would fill the rest with guesses. Stray
    /// bytes before a marker, common and harmless to the pixels, stay a warning.
    func testDamagedScanDataThrowsAndStrayBytesAreWarnings() throws {
        var bytes = try patternImage(width: 64, height: 64).encodedJPEG(quality: 90)
        // Put a stray restart marker inside the scan, after the headers.
        let scanStart = bytes.count / 2
        bytes[scanStart] = 0xFF
        bytes[scanStart + 1] = 0xD3
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try Image.decodeReportingWarnings($0, source: "damaged.jpg") })
        { error in
            guard let error = error as? ImageIOError, case .corrupt(let message) = error.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(message.hasPrefix("damaged image data: Corrupt JPEG data"), message)
        }
        let clean = try patternImage(width: 64, height: 64).encodedJPEG(quality: 90)
        XCTAssertEqual(
            try clean.withUnsafeBytes { try Image.decodeReportingWarnings($0, source: "clean.jpg") }.warnings,
            DecodeWarnings())
        let firstSegmentEnd = 4 + (Int(clean[4]) << 8 | Int(clean[5]))  // SOI, then APP0 with its length
        let stray = Array(clean.prefix(firstSegmentEnd)) + [0x12, 0x34] + Array(clean.dropFirst(firstSegmentEnd))
        let (image, warnings) = try stray.withUnsafeBytes { try Image.decodeReportingWarnings($0, source: "stray.jpg") }
        XCTAssertEqual(image.pixels, try decodeImage(clean).pixels)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("2 extraneous bytes before marker 0x") == true, "\(warnings)")
        XCTAssertThrowsError(try decodeImage(stray, limits: DecodeLimits(treatWarningsAsErrors: true)))
    }

    /// The shim formats only the texts it keeps (the first warning's, and a failure's): later
    /// warnings are counted, and a failure after a warning carries its own text.
    func testLaterWarningsAreCountedAndAFailureKeepsItsOwnText() throws {
        let clean = try patternImage(width: 64, height: 64).encodedJPEG(quality: 90)
        let segments = jpegSegmentEnds(clean)
        XCTAssertGreaterThanOrEqual(segments.count, 3, "SOI, APP0, DQT… before the scan")
        // Two stray bytes after the first segment, three after the second.
        var twice = Array(clean.prefix(segments[0])) + [0x12, 0x34]
        twice += Array(clean[segments[0]..<segments[1]]) + [0x12, 0x34, 0x56]
        twice += Array(clean.dropFirst(segments[1]))
        let (image, warnings) = try twice.withUnsafeBytes { try Image.decodeReportingWarnings($0, source: "twice.jpg") }
        XCTAssertEqual(image.pixels, try decodeImage(clean).pixels)
        XCTAssertEqual(warnings.count, 2)
        XCTAssertTrue(warnings.first?.contains("2 extraneous bytes before marker 0x") == true, "\(warnings)")

        var damaged = twice
        damaged[twice.count / 2 + 100] = 0xFF  // a stray restart marker inside the scan
        damaged[twice.count / 2 + 101] = 0xD3
        XCTAssertThrowsError(
            try damaged.withUnsafeBytes { try Image.decodeReportingWarnings($0, source: "damaged.jpg") }
        ) { error in
            guard let error = error as? ImageIOError, case .corrupt(let message) = error.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(message.hasPrefix("damaged image data: Corrupt JPEG data"), message)
            XCTAssertFalse(
                message.contains("extraneous"), "the failure's own text, not the first warning's: \(message)")
        }
    }

    /// Where each marker segment after SOI ends, up to the start of scan (SOS itself excluded).
    private func jpegSegmentEnds(_ bytes: [UInt8]) -> [Int] {
        var ends: [Int] = []
        var position = 2  // after SOI
        while position + 4 <= bytes.count, bytes[position] == 0xFF, bytes[position + 1] != 0xDA {
            position += 2 + (Int(bytes[position + 2]) << 8 | Int(bytes[position + 3]))
            ends.append(position)
        }
        return ends
    }

    /// A few hundred bytes claiming 64250×64250: refused from the header alone.
    func testOversizedClaimIsRefusedBeforeDecoding() throws {
        var bytes = try patternImage(width: 16, height: 16).encodedJPEG(quality: 50)
        let sof = (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }!
        bytes[sof + 5] = 0xFA; bytes[sof + 6] = 0xFA  // height 64250
        bytes[sof + 7] = 0xFA; bytes[sof + 8] = 0xFA  // width 64250
        XCTAssertEqual(try probe(bytes).pixelCount, 64250 * 64250)
        XCTAssertThrowsError(try decodeImage(bytes, source: "claim.jpg")) { error in
            XCTAssertEqual(
                error as? ImageIOError,
                ImageIOError(
                    source: "claim.jpg",
                    reason: .tooLarge(
                        width: 64250, height: 64250, limit: 100_000_000)))
        }
    }
}
