import Foundation
import Records
import XCTest
import _TestSupport

/// A shard set from someone else: its manifest (or a file beside it) must not make a reader
/// open a file outside the set's folder, or block on something that is not a file.
final class HostileManifestTests: TemporaryFolderTestCase {
    /// A secret outside the set's folder that no reader may open.
    private var outside: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Synthetic.writeSet(folder.appendingPathComponent("set"), count: 20)
        outside = folder.appendingPathComponent("secret.tfrecord")
        try Data("not yours".utf8).write(to: outside)
    }

    private var set: URL { folder.appendingPathComponent("set") }

    /// Edits the manifest's JSON, since `Manifest(directory:)` refuses it after the first rename.
    private func renameShard(_ number: Int, to name: String, index: String? = nil) throws {
        let url = set.appendingPathComponent(Manifest.fileName)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var shards = try XCTUnwrap(object["shards"] as? [[String: Any]])
        shards[number]["name"] = name
        if let index { shards[number]["index"] = index }
        object["shards"] = shards
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    private func assertRefused(_ badName: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ShardSet(directory: set), file: file, line: line) { error in
            guard let error = error as? RecordsError, case .badManifest(let reason) = error.reason else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertTrue(reason.contains(badName) || error.file.contains(badName), "\(error)", file: file, line: line)
        }
        let report = ShardSetVerifier.verify(directory: set)
        XCTAssertFalse(report.isClean, file: file, line: line)
        XCTAssertTrue(
            report.problems.contains { "\($0)".contains(badName) }, "\(report.problems)", file: file, line: line)
        XCTAssertFalse(report.problems.contains { "\($0)".contains("not yours") }, file: file, line: line)
    }

    /// The hand-found bug: `../../etc/passwd` as a shard name was opened by `smis train` and
    /// `smisprep verify`. Every name must be a plain file name in the manifest's folder.
    func testShardNamesThatLeaveTheFolderAreRefused() throws {
        for name in ["../secret.tfrecord", "../../etc/passwd", outside.path, "sub/../../secret.tfrecord", "..", "."] {
            try renameShard(0, to: name)
            XCTAssertThrowsError(try Manifest(directory: set), name) { error in
                XCTAssertTrue("\(error)".contains("is not a file name inside the manifest's folder"), "\(error)")
                XCTAssertTrue((error as? RecordsError)?.file.hasSuffix("manifest.json") == true, "\(error)")
            }
            assertRefused(name)
        }
        try renameShard(0, to: "train-00000.tfrecord", index: "../secret.index")
        assertRefused("../secret.index")
    }

    /// A shard or index that is a symbolic link to a file outside the folder is refused; one to
    /// a file inside it is read.
    func testSymbolicLinksOutOfTheFolderAreRefused() throws {
        let shard = set.appendingPathComponent("train-00001.tfrecord")
        let moved = set.appendingPathComponent("renamed-00001.tfrecord")
        try FileManager.default.moveItem(at: shard, to: moved)
        try FileManager.default.createSymbolicLink(atPath: shard.path, withDestinationPath: "renamed-00001.tfrecord")
        XCTAssertEqual(try ShardSet(directory: set).count, 20, "a link inside the folder is fine")

        try FileManager.default.removeItem(at: shard)
        try FileManager.default.createSymbolicLink(atPath: shard.path, withDestinationPath: "../secret.tfrecord")
        assertRefused("outside the shard set's folder")
        let index = set.appendingPathComponent("train-00000.index")
        try FileManager.default.removeItem(at: index)
        try FileManager.default.createSymbolicLink(atPath: index.path, withDestinationPath: outside.path)
        XCTAssertThrowsError(try ShardSet(directory: set))
    }

    /// A FIFO where a shard should be would block an open for ever: it is refused at once.
    func testAFIFOInPlaceOfAShardIsRefusedWithoutBlocking() throws {
        let shard = set.appendingPathComponent("train-00001.tfrecord")
        try FileManager.default.removeItem(at: shard)
        XCTAssertEqual(mkfifo(shard.path, 0o644), 0)
        XCTAssertThrowsError(try ShardSet(directory: set)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
        XCTAssertTrue(
            ShardSetVerifier.verify(directory: set).problems.contains { "\($0)".contains("not a regular file") })
        let index = set.appendingPathComponent("train-00000.index")
        try FileManager.default.removeItem(at: index)
        XCTAssertEqual(mkfifo(index.path, 0o644), 0)
        XCTAssertThrowsError(try ShardIndex(contentsOf: index))
    }

    /// The writer's resume journal is read back too: an entry naming a file elsewhere must not
    /// make the writer delete that file when it replaces the entry.
    func testAJournalNamingFilesElsewhereIsIgnored() throws {
        let journalURL = set.appendingPathComponent(".shard-journal.json")
        var journal = try String(contentsOf: journalURL, encoding: .utf8)
        journal = journal.replacingOccurrences(of: "\"train-00001.tfrecord\"", with: "\"..\\/secret.tfrecord\"")
        try journal.write(to: journalURL, atomically: true, encoding: .utf8)
        try Synthetic.writeSet(set, count: 12)  // fewer inputs: replaces the journal's later entries
        XCTAssertEqual(try String(contentsOf: outside, encoding: .utf8), "not yours")
        XCTAssertTrue(ShardSetVerifier.verify(directory: set).isClean)
    }

    /// Every reader of the command line refuses the set, naming the manifest, and never prints
    /// what the outside file holds.
    func testEveryCommandRefusesAManifestNamingAFileOutside() throws {
        try renameShard(0, to: "../secret.tfrecord")
        let export = folder.appendingPathComponent("tars").path
        for arguments in [
            ["verify", set.path], ["inspect", set.path, "--index", "0"], ["export", set.path, "--webdataset", export],
            ["stats", set.path, "--recompute"]
        ] {
            let result = try BuiltTool.run("smisprep", arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(
                (result.output + result.errors).contains("\"../secret.tfrecord\", which is not a file name"),
                "\(arguments): \(result.output)\(result.errors)")
            XCTAssertFalse((result.output + result.errors).contains("not yours"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("secret.tar").path))
    }
}
