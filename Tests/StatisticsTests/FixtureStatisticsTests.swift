import Foundation
import XCTest
import _TestSupport

@testable import Statistics

/// Statistics of the committed fixtures through the built `smisprep`, end to end: the raw
/// parser output, the prepared set (`report.json` computed while writing, against a separate
/// scan), its shards (`manifest.json`, and `--recompute` reading every record).
///
/// Expected counts were computed independently with Python (PIL + numpy: `np.unique` over
/// each label PNG), not with this package.
final class FixtureStatisticsTests: XCTestCase {
    var root: URL!
    let fixture = TestPaths.fixtures.appendingPathComponent("deepfashion")
    let sourcesFolder = TestPaths.repositoryRoot.appendingPathComponent("Pipelines/sources").path

    override func setUpWithError() throws { root = try temporaryFolder("fixture-stats") }

    private func statistics(_ arguments: [String]) throws -> DatasetStatistics {
        let (status, output, errors) = try BuiltTool.run("smisprep", ["stats"] + arguments + ["--json"])
        XCTAssertEqual(status, 0, errors)
        return try DatasetStatistics.decode(fromJSON: Data(output.utf8))
    }

    /// (images holding the class, pixels) by class id; absent ids hold nothing.
    private func assertClasses(_ statistics: DatasetStatistics, _ expected: [Int: (images: Int, pixels: Int)],
                               file: StaticString = #filePath, line: UInt = #line) {
        for entry in statistics.classes {
            let want = expected[entry.id] ?? (0, 0)
            XCTAssertEqual(entry.images, want.images, "images holding \(entry.name)", file: file, line: line)
            XCTAssertEqual(entry.pixels, want.pixels, "pixels of \(entry.name)", file: file, line: line)
        }
    }

    func testRawFixtureWithLIPSource() throws {
        let stats = try statistics([fixture.path, "--source", "lip", "--sources-dir", sourcesFolder])
        XCTAssertEqual(stats.labelSet, .source)
        XCTAssertEqual(stats.sampleCount, 12)
        XCTAssertEqual(stats.partitions, ["all": 12])
        XCTAssertEqual(stats.labelPixelCount, 12 * 750 * 1101)
        XCTAssertEqual(stats.classes.count, 20)
        assertClasses(stats, [
            0: (12, 7_512_857), 1: (3, 29_028), 2: (12, 128_715), 3: (3, 16_646), 4: (2, 3_012),
            5: (9, 649_740), 7: (3, 356_298), 8: (3, 8_958), 9: (9, 657_677), 12: (3, 139_138),
            13: (12, 96_934), 14: (12, 71_689), 15: (12, 71_704), 16: (9, 37_413), 17: (9, 37_411),
            18: (12, 45_890), 19: (12, 45_890),
        ])
        // Item id_00000002 wears gloves: --filter glove at any threshold drops its three views.
        let glove = try XCTUnwrap(stats.filterCandidates?.classes.first { $0.name == "glove" })
        XCTAssertEqual(glove.dropsAbovePixels.first, 3)
        XCTAssertEqual(stats.channels?.pixelCount, 12 * 750 * 1101)
        XCTAssertEqual(stats.valuesOutsideTable, [])
    }

    /// The prepared set, its report, its shards and a re-scan of those shards agree exactly.
    func testPreparedSetReportManifestAndRecomputeAgree() throws {
        let prepared = root.appendingPathComponent("prepared").path
        let run = try BuiltTool.run("smisprep", [
            "deepfashion", "--images", fixture.path + "/img", "--labels", fixture.path + "/labels", "--out", prepared,
            "--partition", fixture.path + "/list_eval_partition.txt", "--quiet", "--jobs", "2",
        ])
        XCTAssertEqual(run.status, 0, run.errors)

        let scanned = try statistics([prepared])
        XCTAssertEqual(scanned.labelSet, .target)
        XCTAssertEqual(scanned.sampleCount, 9)
        XCTAssertEqual(scanned.partitions, ["train": 6, "val": 3])
        XCTAssertEqual(scanned.labelPixelCount, 9 * 256 * 256)
        XCTAssertEqual(scanned.classes.map(\.name),
                       ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"])
        assertClasses(scanned, [
            0: (9, 9_833), 1: (9, 6_065), 2: (9, 13_605), 3: (9, 62_066), 4: (9, 44_499), 5: (3, 716), 6: (9, 5_377),
            7: (9, 447_663),
        ])
        XCTAssertEqual(scanned.channels?.pixelCount, 9 * 256 * 256)

        // report.json: computed while writing, equal to the separate scan of the written files.
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: prepared + "/report.json")))
        let reportStatistics = try XCTUnwrap((report as? [String: Any])?["statistics"])
        let fromReport = try DatasetStatistics.decode(
            fromJSON: JSONSerialization.data(withJSONObject: reportStatistics))
        XCTAssertEqual(fromReport, scanned)

        // manifest.json stores the report's statistics; --recompute reads every record back.
        let shards = root.appendingPathComponent("shards").path
        let shard = try BuiltTool.run("smisprep", ["shard", prepared, "--out", shards, "--records-per-shard", "4"])
        XCTAssertEqual(shard.status, 0, shard.errors)
        XCTAssertFalse(shard.errors.contains("scanning"), "the report's statistics should be reused: \(shard.errors)")
        let manifest = try DatasetStatistics.fromManifest(at: shards + "/manifest.json")
        XCTAssertEqual(manifest, fromReport)
        XCTAssertEqual(try statistics([shards]), manifest)
        XCTAssertEqual(try statistics([shards, "--recompute"]), manifest)

        // Without statistics in report.json the shard writer scans the folder: same figures.
        var stripped = try XCTUnwrap(report as? [String: Any])
        stripped["statistics"] = nil
        try JSONSerialization.data(withJSONObject: stripped).write(to: URL(fileURLWithPath: prepared + "/report.json"))
        let rescanned = root.appendingPathComponent("shards-scanned").path
        let second = try BuiltTool.run("smisprep", ["shard", prepared, "--out", rescanned, "--records-per-shard", "4"])
        XCTAssertEqual(second.status, 0, second.errors)
        XCTAssertTrue(second.errors.contains("scanning"), second.errors)
        XCTAssertEqual(try DatasetStatistics.fromManifest(at: rescanned + "/manifest.json"), manifest)
    }
}
