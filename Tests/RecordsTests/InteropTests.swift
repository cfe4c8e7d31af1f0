import Foundation
import Records
import XCTest
import _TestSupport

/// Other readers of our files: the Python `tfrecord` package reads the shards, the `webdataset`
/// package reads the exported tars as pairs. Skipped when Python or the package is missing
/// (`pip install tfrecord webdataset`).
final class InteropTests: TemporaryFolderTestCase {
    /// The Python reader gets every record with the same key, photo, label and split values.
    func testPythonTFRecordReadsOurShards() throws {
        try Synthetic.writeSet(folder, count: 25, sizing: .records(10), width: 7, height: 5)
        let manifest = try Manifest(directory: folder)
        let paths = manifest.shards.map { folder.appendingPathComponent($0.name).path }
        let script = """
            import hashlib, json, sys
            from tfrecord.reader import tfrecord_loader
            for path in \(paths):
                for r in tfrecord_loader(path, None):
                    print(json.dumps({"key": bytes(r["key"]).decode(),
                        "image": hashlib.sha256(bytes(r["image/encoded"])).hexdigest(),
                        "label": hashlib.sha256(bytes(r["label/encoded"])).hexdigest(),
                        "size": [int(r["image/width"][0]), int(r["image/height"][0])],
                        "area": [int(v) for v in r["split/area"]],
                        "bbox": [int(v) for v in r["split/bbox"]]}))
            """
        let lines = try Python.run(script, requiring: "tfrecord").split(separator: "\n")
        XCTAssertEqual(lines.count, 25)
        for (number, line) in lines.enumerated() {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let sample = Synthetic.sample(number: number, width: 7, height: 5)
            let split = try SegmentationRecord.classSplit(of: sample.label, classCount: 8)
            XCTAssertEqual(record["key"] as? String, Synthetic.key(number))
            XCTAssertEqual(record["image"] as? String, sha256Hex(sample.image.pixels))
            XCTAssertEqual(record["label"] as? String, sha256Hex(sample.label.values))
            XCTAssertEqual(record["size"] as? [Int], [7, 5])
            XCTAssertEqual(record["area"] as? [Int], split.areas.map(Int.init))
            XCTAssertEqual(record["bbox"] as? [Int], split.boundingBoxes.map(Int.init))
        }
    }

    /// Records holding JPEG and PNG bytes (passed through unchanged, so no codec is needed) are
    /// exported to tars that webdataset groups into (jpg, seg.png) pairs with the right bytes.
    func testWebDatasetReadsExportedTarsAsPairs() throws {
        let shards = folder.appendingPathComponent("shards"), tars = folder.appendingPathComponent("tars")
        let source = RecordSource(split: "train", count: 12, identity: { "\($0)" }) { number in
            let photo: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array("photo \(number)".utf8)
            let label = [0x89, 0x50, 0x4E, 0x47] + Array("label \(number)".utf8)
            return try SegmentationRecord.example(
                key: "item.\(number)", photo: .encoded(bytes: photo, format: .jpeg, width: 2, height: 2),
                label: .init(width: 2, height: 2, filledWith: UInt8(number % 8)), labelFileBytes: label, classCount: 8,
                imageEncoding: .jpeg(quality: nil), labelEncoding: .png
            ).encoded()
        }
        _ = try ShardSetWriter(configuration: Synthetic.configuration(shards, sizing: .records(5))).write([source])
        let written = try WebDatasetExporter.export(try ShardSet(directory: shards), to: tars)
        XCTAssertEqual(written.count, 3)
        let script = """
            import webdataset as wds
            urls = \(written.map(\.path))
            for sample in wds.WebDataset(urls, shardshuffle=False):
                print(sample["__key__"], sorted(k for k in sample if not k.startswith("__")),
                      sample["jpg"][4:].decode(), sample["seg.png"][4:].decode(), sep="|")
            """
        let lines = try Python.run(script, requiring: "webdataset").split(separator: "\n")
        XCTAssertEqual(lines.count, 12, "\(lines)")
        for (number, line) in lines.enumerated() {
            XCTAssertEqual(String(line), "item_\(number)|['jpg', 'seg.png']|photo \(number)|label \(number)")
        }
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    input.fileHandleForWriting.write(Data(bytes))
    try? input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(64))
}
