import Foundation
import ImageIO
import XCTest
import _TestSupport

@testable import Statistics

/// Statistics of the real parser output in `../shared/data/real-parsing` (never committed),
/// checked figure by figure against an independent NumPy computation over PIL's decoding.
/// Skips when the data, Python, NumPy or PIL is missing.
final class RealParsingTests: XCTestCase {
    static let lipNames: [Int: String] = [
        0: "background", 1: "hat", 2: "hair", 3: "glove", 4: "sunglasses", 5: "upper-clothes", 6: "dress",
        7: "coat", 8: "socks", 9: "pants", 10: "torso-skin", 11: "scarf", 12: "skirt", 13: "face", 14: "left-arm",
        15: "right-arm", 16: "left-leg", 17: "right-leg", 18: "left-shoe", 19: "right-shoe",
    ]

    /// The reference: per value pixels, images, sorted areas, box-width/height bins; the
    /// co-occurrence of values; per-channel mean and standard deviation.
    static let reference = """
        import json, sys
        try:
            import numpy as np
            from PIL import Image
        except ImportError:
            sys.exit(3)
        folder, bins = sys.argv[1], 10
        import os
        stems = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".png"))
        values = {}
        co = {}
        total = np.zeros(3); total_sq = np.zeros(3); n = 0
        for stem in stems:
            label = np.array(Image.open(os.path.join(folder, stem + ".png")))
            assert label.ndim == 2 and label.dtype == np.uint8
            h, w = label.shape
            present = sorted(int(v) for v in np.unique(label))
            for v in present:
                ys, xs = np.nonzero(label == v)
                bw, bh = int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
                entry = values.setdefault(v, {"pixels": 0, "areas": [], "wbins": [0] * bins, "hbins": [0] * bins})
                entry["pixels"] += int(xs.size)
                entry["areas"].append(int(xs.size))
                entry["wbins"][min(bins - 1, bw * bins // w)] += 1
                entry["hbins"][min(bins - 1, bh * bins // h)] += 1
            for a in present:
                for b in present:
                    co[f"{a},{b}"] = co.get(f"{a},{b}", 0) + 1
            photo = np.asarray(Image.open(os.path.join(folder, stem + ".jpg")).convert("RGB"), dtype=np.float64)
            total += photo.reshape(-1, 3).sum(0)
            total_sq += (photo.reshape(-1, 3) ** 2).sum(0)
            n += photo.shape[0] * photo.shape[1]
        mean = total / n
        std = np.sqrt(total_sq / n - mean ** 2)
        for entry in values.values():
            entry["areas"].sort()
        json.dump(
            {"values": values, "co": co, "mean": mean.tolist(), "std": std.tolist(), "samples": len(stems)}, sys.stdout)
        """

    struct Reference: Decodable {
        struct Value: Decodable {
            var pixels: Int
            var areas: [Int]
            var wbins: [Int]
            var hbins: [Int]
        }
        var values: [String: Value]
        var co: [String: Int]
        var mean: [Double]
        var std: [Double]
        var samples: Int
    }

    func testCIHPGroundTruthMatchesNumPy() throws { try check(folder: "cihp-gt") }

    func testLIPParserOutputMatchesNumPy() throws { try check(folder: "schp-lip") }

    func check(folder name: String) throws {
        let folder = TestPaths.shared.appendingPathComponent("data/real-parsing/\(name)")
        guard FileManager.default.fileExists(atPath: folder.path) else { throw XCTSkip("no \(folder.path)") }
        let reference = try runReference(folder: folder.path)

        let listing = DatasetListing.raw(at: folder.path)
        XCTAssertEqual(listing.samples.count, reference.samples)
        XCTAssertTrue(listing.photosWithoutLabel.isEmpty && listing.labelsWithoutPhoto.isEmpty)
        let result = StatisticsScan.run(
            listing.samples, into: StatisticsAccumulator(labelSet: LabelSet(source: "", classes: Self.lipNames)))
        XCTAssertEqual(result.skipped, [])
        let stats = result.accumulator.finish()
        XCTAssertEqual(stats.sampleCount, reference.samples)

        for value in 0..<256 {
            let expected = reference.values["\(value)"]
            let classEntry = stats.classes.first { $0.id == value }
            let outside = stats.valuesOutsideTable.first { $0.value == value }
            let pixels = classEntry?.pixels ?? outside?.pixels ?? 0
            XCTAssertEqual(pixels, expected?.pixels ?? 0, "value \(value) pixels")
            guard let expected, let classEntry else { continue }
            XCTAssertEqual(classEntry.images, expected.areas.count, "value \(value) images")
            let areas = expected.areas.map(Double.init)
            XCTAssertEqual(
                classEntry.medianArea, StatisticsAccumulator.median(ofSorted: areas), "value \(value) median")
            XCTAssertEqual(classEntry.boundingBoxWidths.counts, expected.wbins, "value \(value) box widths")
            XCTAssertEqual(classEntry.boundingBoxHeights.counts, expected.hbins, "value \(value) box heights")
        }
        for (row, a) in stats.classes.enumerated() {
            for (column, b) in stats.classes.enumerated() {
                XCTAssertEqual(
                    stats.cooccurrence[row][column], reference.co["\(a.id),\(b.id)"] ?? 0, "\(a.name) & \(b.name)")
            }
        }
        let channels = try XCTUnwrap(stats.channels)
        for c in 0..<3 {
            // Both sides decode with libjpeg(-turbo); allow for another IDCT, not for a wrong sum.
            XCTAssertEqual(channels.mean[c], reference.mean[c], accuracy: 0.05, "channel \(c) mean")
            XCTAssertEqual(channels.standardDeviation[c], reference.std[c], accuracy: 0.05, "channel \(c) std")
        }
    }

    func runReference(folder: String) throws -> Reference {
        let script = try temporaryFolder("stats-reference").appendingPathComponent("reference.py")
        try Self.reference.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, folder]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { throw XCTSkip("python3 is not available") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 3 { throw XCTSkip("NumPy or PIL is missing") }
        guard process.terminationStatus == 0 else {
            XCTFail("reference script failed with status \(process.terminationStatus)")
            throw XCTSkip("no reference")
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }
}
