import SeededRandom
import Foundation
import XCTest
import ImageIO
import _TestSupport

/// `Image.checkDecodes` must throw exactly what decoding throws (same reason, same message) and
/// nothing when decoding succeeds, though it decodes a JPEG's pixels only at 1/8 scale: the
/// pipeline relies on it to report broken photos of samples it drops for their labels.
final class CheckDecodesTests: XCTestCase {
    /// "ok", or the error decoding (or checking) `bytes` throws.
    private func outcome(_ bytes: [UInt8], limits: DecodeLimits, check: Bool) -> String {
        do {
            try bytes.withUnsafeBytes { raw in
                if check {
                    try Image.checkDecodes(raw, source: "photo.jpg", limits: limits)
                } else {
                    _ = try Image(decoding: raw, source: "photo.jpg", limits: limits)
                }
            }
            return "ok"
        } catch {
            return String(describing: error)
        }
    }

    /// Checks every file under both limits; returns how many decode, so a caller can tell the
    /// damage was varied enough to exercise both answers.
    @discardableResult
    private func assertCheckAgrees(
        _ files: [(name: String, bytes: [UInt8])], file: StaticString = #filePath,
        line: UInt = #line
    ) -> (decoding: Int, failing: Int) {
        var decoding = 0, failing = 0
        for (name, bytes) in files {
            for limits in [DecodeLimits.default, DecodeLimits(treatWarningsAsErrors: true)] {
                let decoded = outcome(bytes, limits: limits, check: false)
                XCTAssertEqual(
                    outcome(bytes, limits: limits, check: true), decoded,
                    "\(name), warnings as errors: \(limits.treatWarningsAsErrors)", file: file, line: line)
                if decoded == "ok" { decoding += 1 } else { failing += 1 }
            }
        }
        return (decoding, failing)
    }

    func testCutsAndDamageAnywhereGiveTheSameAnswerAsDecoding() throws {
        let baseline = try patternImage(width: 203, height: 77).encodedJPEG(quality: 90)
        var files: [(String, [UInt8])] = [("whole", baseline)]
        for cut in stride(from: 0, to: baseline.count, by: max(1, baseline.count / 40)) {
            files.append(("cut at \(cut)", Array(baseline.prefix(cut))))
        }
        var random = SplitMix64(seed: 7)  // the same damage on every run
        for trial in 0..<120 {
            var damaged = baseline
            for _ in 0..<(1 + trial % 3) {
                let offset = Int(random.next() % UInt64(damaged.count))
                damaged[offset] = UInt8(truncatingIfNeeded: random.next())
            }
            files.append(("damage \(trial)", damaged))
        }
        var marker = baseline  // a stray restart marker in the scan: warnings, not an error
        marker[marker.count / 2] = 0xFF
        marker[marker.count / 2 + 1] = 0xD3
        files.append(("stray marker", marker))
        let (decoding, failing) = assertCheckAgrees(files)
        XCTAssertGreaterThan(decoding, 10)
        XCTAssertGreaterThan(failing, 40)
    }

    func testEveryConformanceVariantAndItsCutsAgree() throws {
        let folder = try conformanceFolder("jpeg")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jpeg") }
            .sorted()
        XCTAssertGreaterThan(names.count, 10)
        var files: [(String, [UInt8])] = []
        for name in names {
            let bytes = try fileBytes(folder.appendingPathComponent(name))
            files.append((name, bytes))
            for fraction in [3, 2] {
                files.append(("\(name) cut to 1/\(fraction)", Array(bytes.prefix(bytes.count / fraction))))
            }
        }
        assertCheckAgrees(files)
    }

    func testOversizedClaimsAndOtherFormatsAgree() throws {
        var claim = try patternImage(width: 16, height: 16).encodedJPEG(quality: 50)
        let sof = (0..<(claim.count - 1)).first { claim[$0] == 0xFF && claim[$0 + 1] == 0xC0 }!
        claim[sof + 5] = 0xFA; claim[sof + 7] = 0xFA
        let png = try patternImage(width: 30, height: 20).encodedPNG()
        assertCheckAgrees([
            ("claim", claim), ("png", png), ("cut png", Array(png.prefix(png.count - 20))), ("empty", []),
            ("not an image", Array("hello".utf8))
        ])
    }
}
