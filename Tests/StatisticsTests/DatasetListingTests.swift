import Foundation
import XCTest
import _TestSupport

@testable import Statistics

/// Layout detection and pairing on temporary folders of empty files (pairing reads no pixels).
final class DatasetListingTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws { root = try temporaryFolder("stats-listing") }

    /// Writes `contents` to `relative` under the root, creating its folders.
    func write(_ contents: String, to relative: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Creates empty files (pairing reads no pixels).
    func touch(_ relatives: String...) throws {
        for relative in relatives { try write("", to: relative) }
    }

    func testPreparedFolderPairsByStemAndNamesPartitions() throws {
        try touch(
            "train/MEN-Denim-id_1-01_1_front.jpg", "cihp_train_mask/MEN-Denim-id_1-01_1_front.png",
            "cihp_train_mask/MEN-Denim-id_2-01_1_front.png", "test/WOMEN-Skirts-id_3-02_2_side.jpg",
            "test/WOMEN-Skirts-id_9-02_2_side.jpg", "cihp_test_mask/WOMEN-Skirts-id_3-02_2_side.png")
        try write(#"{"classes": ["a", "b"]}"#, to: "classes.json")
        XCTAssertEqual(try DatasetListing.detectLayout(of: root.path), .prepared)
        let listing = try DatasetListing.prepared(at: root.path)
        XCTAssertEqual(listing.samples.map(\.key), [
            "MEN-Denim-id_1-01_1_front", "MEN-Denim-id_2-01_1_front", "WOMEN-Skirts-id_3-02_2_side",
        ])
        XCTAssertEqual(listing.samples.map(\.partition), ["train", "train", "val"])
        XCTAssertEqual(
            listing.samples[0].photoPath, root.appendingPathComponent("train/MEN-Denim-id_1-01_1_front.jpg").path)
        XCTAssertNil(listing.samples[1].photoPath)
        XCTAssertEqual(
            listing.labelsWithoutPhoto,
            [root.appendingPathComponent("cihp_train_mask/MEN-Denim-id_2-01_1_front.png").path])
        XCTAssertEqual(
            listing.photosWithoutLabel, [root.appendingPathComponent("test/WOMEN-Skirts-id_9-02_2_side.jpg").path])
        XCTAssertEqual(listing.classNames, ["a", "b"])
    }

    func testRawTreesPairByRelativePath() throws {
        try touch(
            "img/MEN/Denim/id_1/01_1_front.jpg", "labels/MEN/Denim/id_1/01_1_front.png",
            "img/MEN/Denim/id_1/02_2_side.jpg")
        XCTAssertEqual(try DatasetListing.detectLayout(of: root.path), .raw)
        let listing = DatasetListing.raw(at: root.path)
        XCTAssertEqual(listing.samples, [SampleFiles(
            key: "MEN-Denim-id_1-01_1_front",
            labelPath: root.appendingPathComponent("labels/MEN/Denim/id_1/01_1_front.png").path,
            photoPath: root.appendingPathComponent("img/MEN/Denim/id_1/01_1_front.jpg").path, partition: "all")])
        XCTAssertEqual(
            listing.photosWithoutLabel, [root.appendingPathComponent("img/MEN/Denim/id_1/02_2_side.jpg").path])
    }

    func testFlatRawFolderPairsPNGLabelsWithJPEGPhotos() throws {
        try touch("0001.jpg", "0001.png", "0002.png", "notes.txt")
        let listing = DatasetListing.raw(at: root.path)
        XCTAssertEqual(listing.samples.map(\.key), ["0001", "0002"])
        XCTAssertNotNil(listing.samples[0].photoPath)
        XCTAssertNil(listing.samples[1].photoPath)
    }

    /// As the pipeline reads them: TIFF label maps too, subfolders, hidden files skipped at
    /// any depth; a tree of label maps alone gives label-only samples, not "nothing found".
    func testRawFolderTreesUseThePipelinesExtensions() throws {
        try touch("WOMEN/Dresses/0001.jpg", "WOMEN/Dresses/0001.tif", "MEN/0002.png", "MEN/.smisprep/0003.png")
        let listing = DatasetListing.raw(at: root.path)
        XCTAssertEqual(listing.samples.map(\.key), ["MEN-0002", "WOMEN-Dresses-0001"])
        XCTAssertEqual(listing.samples[1].photoPath, root.appendingPathComponent("WOMEN/Dresses/0001.jpg").path)
        XCTAssertEqual(listing.labelsWithoutPhoto, [root.appendingPathComponent("MEN/0002.png").path])
    }

    func testManifestStatisticsAreReadWithoutScanning() throws {
        let (stats, _) = RenderingTests.crafted()
        let statistics = try JSONSerialization.jsonObject(with: try stats.encodedJSON())
        let manifest: [String: Any] = ["formatVersion": 1, "shards": [], "statistics": statistics]
        try JSONSerialization.data(withJSONObject: manifest).write(to: root.appendingPathComponent("manifest.json"))
        let path = root.appendingPathComponent("manifest.json").path
        XCTAssertEqual(try DatasetListing.detectLayout(of: root.path), .shards(manifest: path))
        XCTAssertEqual(try DatasetStatistics.fromManifest(at: path), stats)
    }

    func testManifestWithoutStatisticsNamesTheFile() throws {
        let path = root.appendingPathComponent("manifest.json").path
        try #"{"formatVersion": 1}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DatasetStatistics.fromManifest(at: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
        }
    }

    func testAMissingFolderIsAnError() {
        XCTAssertThrowsError(try DatasetListing.detectLayout(of: root.appendingPathComponent("nope").path))
    }
}

extension DatasetListingTests {
    func testManifestMayStoreAPipelineReportEmbeddingTheStatistics() throws {
        let (stats, _) = RenderingTests.crafted()
        let report: [String: Any] = [
            "kept": 3, "statistics": try JSONSerialization.jsonObject(with: try stats.encodedJSON()),
        ]
        let path = root.appendingPathComponent("manifest.json").path
        try JSONSerialization.data(withJSONObject: ["statistics": report]).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try DatasetStatistics.fromManifest(at: path), stats)
    }

    func testAnEmptyStatisticsObjectSaysNoneAreStored() throws {
        let path = root.appendingPathComponent("manifest.json").path
        try #"{"statistics": {}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DatasetStatistics.fromManifest(at: path)) { error in
            XCTAssertTrue("\(error)".contains("stores no statistics"), "\(error)")
        }
    }
}
