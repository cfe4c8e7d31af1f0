@testable import AtomicFiles
import CFileSync
import Foundation
import XCTest
import _TestSupport

/// The crash-safety rule: a final name holds nothing, the old file or the whole new one, and
/// no temporary file outlives a failure.
final class AtomicFileWriterTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws { folder = try temporaryFolder("atomic").path }

    private func names(_ directory: String? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory ?? folder).sorted()
    }

    private func contents(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private struct Interrupted: Error {}

    // MARK: Whole buffers

    func testWholeBufferWriteLeavesExactlyTheFinalFile() throws {
        let path = folder + "/report.json"
        try AtomicFileWriter.write(Array("{\"ok\": true}\n".utf8), to: path)
        XCTAssertEqual(try contents(path), Array("{\"ok\": true}\n".utf8))
        XCTAssertEqual(try names(), ["report.json"])
    }

    func testReplacingAnExistingFileSwapsItWhole() throws {
        let path = folder + "/data.bin"
        try AtomicFileWriter.write([UInt8](repeating: 1, count: 10_000), to: path)
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? reader.close() }
        try AtomicFileWriter.write([UInt8](repeating: 2, count: 300), to: path)
        // A reader that opened the old file still sees all of it (the new file is another inode) …
        XCTAssertEqual(Array(try reader.readToEnd() ?? Data()), [UInt8](repeating: 1, count: 10_000))
        // … and the name now holds only the new contents.
        XCTAssertEqual(try contents(path), [UInt8](repeating: 2, count: 300))
        XCTAssertEqual(try names(), ["data.bin"])
    }

    /// The one whole-file API takes any byte sequence: `Data` and a string's UTF-8 view (both
    /// written from their own storage) and a lazy sequence without contiguous storage (copied).
    func testAnyByteSequenceIsWrittenWhole() throws {
        let text = "étiquette: top-clothes\n"
        try AtomicFileWriter.write(Data(text.utf8), to: folder + "/data")
        try AtomicFileWriter.write(text.utf8, to: folder + "/text")
        try AtomicFileWriter.write((0..<300).lazy.map { UInt8($0 % 251) }, to: folder + "/lazy")
        XCTAssertEqual(try contents(folder + "/data"), Array(text.utf8))
        XCTAssertEqual(try contents(folder + "/text"), Array(text.utf8))
        XCTAssertEqual(try contents(folder + "/lazy"), (0..<300).map { UInt8($0 % 251) })
        XCTAssertEqual(try names(), ["data", "lazy", "text"])
    }

    func testEmptyFileIsWritten() throws {
        try AtomicFileWriter.write([], to: folder + "/empty")
        XCTAssertEqual(try contents(folder + "/empty"), [])
    }

    func testNonDurableWriteStillRenames() throws {
        try AtomicFileWriter.write([7], to: folder + "/fast", options: AtomicWriteOptions(durable: false))
        XCTAssertEqual(try contents(folder + "/fast"), [7])
        XCTAssertEqual(try names(), ["fast"])
    }

    // MARK: Streaming

    func testStreamedChunksArriveInOrderOnlyAfterCommit() throws {
        let path = folder + "/shard.tfrecord"
        let writer = try AtomicFileWriter(path: path)
        try writer.write([1, 2, 3])
        try writer.write([4, 5])
        XCTAssertEqual(writer.bytesWritten, 5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing under the final name before commit")
        XCTAssertEqual(try names(), [(writer.temporaryPath as NSString).lastPathComponent])
        XCTAssertTrue(AtomicFileWriter.isTemporary(fileName: (writer.temporaryPath as NSString).lastPathComponent))
        try writer.commit()
        XCTAssertEqual(try contents(path), [1, 2, 3, 4, 5])
        XCTAssertEqual(try names(), ["shard.tfrecord"])
        XCTAssertThrowsError(try writer.write([6])) { error in
            XCTAssertEqual((error as? AtomicFileError)?.step, .finished)
        }
    }

    /// A writer closed by `finishWriting()` keeps its temporary and no descriptor: `commit()`
    /// reopens it to flush, then renames; `write` is refused; `discard()` removes it.
    func testFinishedWritingWaitsForCommitOrDiscard() throws {
        let path = folder + "/photo.jpg"
        let writer = try AtomicFileWriter(path: path)
        let bytes = [UInt8](repeating: 3, count: 100_000)
        try writer.write(bytes)
        try writer.finishWriting()
        XCTAssertFalse(writer.isOpen)
        XCTAssertTrue(writer.isAwaitingCommit)
        XCTAssertThrowsError(try writer.write([4])) { XCTAssertEqual(($0 as? AtomicFileError)?.step, .finished) }
        XCTAssertThrowsError(try writer.finishWriting()) { XCTAssertEqual(($0 as? AtomicFileError)?.step, .finished) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing under the final name before commit")
        try writer.commit()
        XCTAssertFalse(writer.isAwaitingCommit)
        XCTAssertEqual(try contents(path), bytes)

        let dropped = try AtomicFileWriter(path: folder + "/label.png")
        try dropped.write([1, 2])
        try dropped.finishWriting()
        dropped.discard()
        XCTAssertThrowsError(try dropped.commit()) { XCTAssertEqual(($0 as? AtomicFileError)?.step, .finished) }
        XCTAssertEqual(try names(), ["photo.jpg"])
    }

    // MARK: Batches

    private func pendingWriters(
        _ names: [String], durable: Bool = true, finished: Bool = true
    ) throws -> [AtomicFileWriter] {
        try names.enumerated().map { index, name in
            let writer = try AtomicFileWriter(
                path: folder + "/" + name, options: AtomicWriteOptions(durable: durable, createFolders: true))
            try writer.write([UInt8](repeating: UInt8(index), count: 1000 + index))
            if finished && index % 2 == 0 { try writer.finishWriting() }  // open and closed writers mixed
            return writer
        }
    }

    func testABatchFlushesTheFileSystemOnceAndRenamesEveryFile() throws {
        let names = ["train/a.jpg", "train/b.jpg", "mask/a.png", "mask/b.png", "c.jpg"]
        let writers = try pendingWriters(names)
        var flushes = 0
        try AtomicFileWriter.commit(writers) { descriptor in
            flushes += 1
            return syncfsOrNothing(descriptor)
        }
        XCTAssertEqual(flushes, 1, "one file system, one flush")
        for (index, name) in names.enumerated() {
            XCTAssertEqual(try contents(folder + "/" + name), [UInt8](repeating: UInt8(index), count: 1000 + index))
        }
        XCTAssertEqual(try self.names(folder + "/train"), ["a.jpg", "b.jpg"], "no temporaries left")
        XCTAssertTrue(writers.allSatisfy { !$0.isOpen && !$0.isAwaitingCommit })
        try AtomicFileWriter.commit([])  // nothing to do
    }

    /// Where the file system cannot be flushed as a whole (ENOSYS: not Linux, or a kernel whose
    /// syncfs hides errors) each file is flushed on its own, and still committed.
    func testABatchFallsBackToFlushingEachFile() throws {
        let writers = try pendingWriters(["a", "b", "c"])
        try AtomicFileWriter.commit(writers) { _ in
            errno = ENOSYS
            return -1
        }
        XCTAssertEqual(try names(), ["a", "b", "c"])
        XCTAssertEqual(try contents(folder + "/c"), [UInt8](repeating: 2, count: 1002))
    }

    func testAFailedFileSystemFlushDiscardsTheWholeBatch() throws {
        let writers = try pendingWriters(["train/a.jpg", "train/b.jpg", "c.png"])
        XCTAssertThrowsError(
            try AtomicFileWriter.commit(writers) { _ in
                errno = EIO
                return -1
            }
        ) { error in
            let failure = error as? AtomicFileError
            XCTAssertEqual(failure?.step, .flush)
            XCTAssertEqual(failure?.code, EIO)
            XCTAssertEqual(failure?.path, self.folder + "/train/a.jpg")
            XCTAssertEqual(
                failure?.detailPath, self.folder + "/train", "the folder the file system was flushed through")
        }
        XCTAssertEqual(try names(), ["train"])
        XCTAssertEqual(try names(folder + "/train"), [], "no final file and no temporary")
    }

    func testNonDurableWritersInABatchAreOnlyRenamed() throws {
        let writers = try pendingWriters(["a", "b"], durable: false)
        var flushes = 0
        try AtomicFileWriter.commit(writers) { _ in
            flushes += 1
            return 0
        }
        XCTAssertEqual(flushes, 0)
        XCTAssertEqual(try names(), ["a", "b"])
    }

    func testABatchWithAFinishedWriterTouchesNothing() throws {
        let writers = try pendingWriters(["a", "b"])
        try writers[1].commit()
        XCTAssertThrowsError(try AtomicFileWriter.commit(writers)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.step, .finished)
            XCTAssertEqual((error as? AtomicFileError)?.path, self.folder + "/b")
        }
        XCTAssertTrue(writers[0].isAwaitingCommit, "the other writer still waits")
        try writers[0].commit()
        XCTAssertEqual(try names(), ["a", "b"])
    }

    /// A rename that fails midway: the files renamed before it stay (complete), the rest are
    /// discarded, and the error names the file.
    func testARenameFailureMidwayDiscardsTheRest() throws {
        let writers = try pendingWriters(["a", "blocked", "c"])
        try FileManager.default.createDirectory(atPath: folder + "/blocked/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFileWriter.commit(writers)) { error in
            XCTAssertEqual((error as? AtomicFileError)?.step, .rename)
            XCTAssertEqual((error as? AtomicFileError)?.path, self.folder + "/blocked")
        }
        XCTAssertEqual(try names(), ["a", "blocked"])
        XCTAssertEqual(try contents(folder + "/a"), [UInt8](repeating: 0, count: 1000))
        XCTAssertFalse(writers[2].isOpen || writers[2].isAwaitingCommit)
    }

    func testAWriteThatThrowsMidwayLeavesNoFinalFileAndNoTemporary() throws {
        let path = folder + "/shard.tfrecord"
        XCTAssertThrowsError(
            try AtomicFileWriter.write(to: path) { writer in
                try writer.write([UInt8](repeating: 9, count: 1 << 20))
                throw Interrupted()
            }
        ) { error in
            XCTAssertTrue(error is Interrupted, "the body's error comes back unchanged: \(error)")
        }
        XCTAssertEqual(try names(), [])
    }

    func testAThrowMidwayKeepsTheOldFile() throws {
        let path = folder + "/manifest.json"
        try AtomicFileWriter.write([1, 1, 1], to: path)
        XCTAssertThrowsError(
            try AtomicFileWriter.write(to: path) { writer in
                try writer.write([2, 2])
                throw Interrupted()
            })
        XCTAssertEqual(try contents(path), [1, 1, 1])
        XCTAssertEqual(try names(), ["manifest.json"])
    }

    func testDroppingAnUncommittedWriterRemovesItsTemporary() throws {
        do {
            let writer = try AtomicFileWriter(path: folder + "/abandoned")
            try writer.write([1, 2, 3])
        }
        XCTAssertEqual(try names(), [])
    }

    func testTwoWritersOfOneNameUseDifferentTemporaries() throws {
        let path = folder + "/same"
        let first = try AtomicFileWriter(path: path)
        let second = try AtomicFileWriter(path: path)
        XCTAssertNotEqual(first.temporaryPath, second.temporaryPath)
        try first.write([1])
        try second.write([2])
        try first.commit()
        try second.commit()
        XCTAssertEqual(try contents(path), [2], "the last commit wins, whole")
        XCTAssertEqual(try names(), ["same"])
    }

    // MARK: Errors name the path

    func testMissingFolderGivesAnErrorNamingThePath() throws {
        let path = folder + "/missing/report.json"
        XCTAssertThrowsError(try AtomicFileWriter.write([1], to: path)) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, path)
            XCTAssertEqual(error.step, .createTemporary)
            XCTAssertEqual(error.code, ENOENT)
            XCTAssertTrue(error.description.hasPrefix(path + ": cannot create a temporary file"), error.description)
            XCTAssertTrue(error.description.hasSuffix("No such file or directory"), error.description)
        }
        XCTAssertEqual(try names(), [])
    }

    func testCreateFoldersMakesMissingParents() throws {
        let path = folder + "/a/b/c.txt"
        try AtomicFileWriter.write([42], to: path, options: AtomicWriteOptions(createFolders: true))
        XCTAssertEqual(try contents(path), [42])
    }

    func testCreateFoldersThroughAFileNamesTheBlockingPath() throws {
        try AtomicFileWriter.write([1], to: folder + "/plain")
        let path = folder + "/plain/sub/c.txt"
        XCTAssertThrowsError(
            try AtomicFileWriter.write([1], to: path, options: AtomicWriteOptions(createFolders: true))
        ) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.step, .createFolder)
            XCTAssertEqual(error.code, ENOTDIR)
            XCTAssertEqual(error.detailPath, folder + "/plain/sub")
            XCTAssertTrue(
                error.description.hasPrefix(path + ": cannot create the folder " + folder + "/plain/sub"),
                error.description)
        }
    }

    func testReadOnlyFolderGivesAnErrorNamingThePath() throws {
        let readOnly = try makeReadOnlyFolder()
        defer { readOnly.release() }
        let path = readOnly.path + "/report.json"
        XCTAssertThrowsError(try AtomicFileWriter.write([1, 2, 3], to: path)) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, path)
            XCTAssertEqual(error.step, .createTemporary)
            XCTAssertTrue([EACCES, EROFS].contains(error.code), error.description)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description)
        }
        XCTAssertEqual(try names(readOnly.path), [])
    }

    func testRenameOntoAFolderFailsAndRemovesTheTemporary() throws {
        let path = folder + "/taken"
        try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFileWriter.write([1], to: path)) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.step, .rename)
            XCTAssertTrue(error.description.hasPrefix(path + ": cannot rename into place: "), error.description)
        }
        XCTAssertEqual(try names(), ["taken"], "the temporary is gone")
    }

    func testPathEndingInASlashIsRefused() {
        XCTAssertThrowsError(try AtomicFileWriter.write([1], to: folder + "/")) { error in
            XCTAssertEqual((error as? AtomicFileError)?.code, EISDIR)
        }
    }

    // MARK: Full disk

    /// /dev/full fails every write with ENOSPC: the error says so, names the final path and
    /// the byte offset, and the temporary file is removed.
    func testFullDiskOnWriteIsReportedAndCleansUp() throws {
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw XCTSkip("/dev/full is not available here") }
        let path = folder + "/shard-00000.tfrecord"
        let temporary = folder + "/.shard-00000.tfrecord.partial-test"
        XCTAssertTrue(FileManager.default.createFile(atPath: temporary, contents: nil))
        let writer = AtomicFileWriter(
            path: path, temporaryPath: temporary, descriptor: descriptor, options: AtomicWriteOptions())
        XCTAssertThrowsError(try writer.write([UInt8](repeating: 0, count: 4096))) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isDiskFull)
            XCTAssertEqual(error.step, .write)
            XCTAssertEqual(error.byteOffset, 0)
            XCTAssertEqual(
                error.description,
                "\(path): cannot write at byte 0: No space left on device (the disk is full; free some space or "
                + "write elsewhere)")
        }
        XCTAssertFalse(writer.isOpen, "a failed writer is finished")
        XCTAssertEqual(try names(), [], "neither the final name nor the temporary")
    }

    /// A real, tiny file system fills up midway through a stream. Needs root to mount.
    func testFullFileSystemMidStreamLeavesNothing() throws {
        let mountPoint = folder + "/tiny"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard Self.mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]) else {
            throw XCTSkip("cannot mount a tmpfs here (needs root)")
        }
        defer { _ = Self.mount([mountPoint], tool: "/bin/umount") }
        let path = mountPoint + "/big.bin"
        XCTAssertThrowsError(
            try AtomicFileWriter.write(to: path) { writer in
                for _ in 0..<64 { try writer.write([UInt8](repeating: 3, count: 4096)) }
            }
        ) { error in
            guard let error = error as? AtomicFileError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isDiskFull, error.description)
            XCTAssertEqual(error.path, path)
            XCTAssertGreaterThan(error.byteOffset ?? 0, 0, "some bytes fit before the disk filled")
        }
        XCTAssertEqual(try names(mountPoint), [])
    }

    // MARK: Deferred folder syncs

    func testABatchCollectsFoldersInsteadOfSyncingEach() throws {
        let batch = FolderSyncBatch()
        let options = AtomicWriteOptions(folderSyncs: batch)
        try AtomicFileWriter.write([1], to: folder + "/one", options: options)
        try AtomicFileWriter.write([2], to: folder + "/two", options: options)
        XCTAssertEqual(try contents(folder + "/two"), [2], "the file is complete at once")
        XCTAssertEqual(batch.pendingFolders, [folder])
        XCTAssertEqual(batch.syncAll(), [], "every folder synced")
        XCTAssertEqual(batch.pendingFolders, [])
    }

    func testNewFoldersPutTheirParentsInTheBatch() throws {
        let batch = FolderSyncBatch()
        try AtomicFileWriter.write(
            [1], to: folder + "/a/b/c.txt", options: AtomicWriteOptions(createFolders: true, folderSyncs: batch))
        XCTAssertEqual(batch.pendingFolders, [folder, folder + "/a", folder + "/a/b"])
    }

    func testNonDurableWritesAddNothingToTheBatch() throws {
        let batch = FolderSyncBatch()
        try AtomicFileWriter.write(
            [1], to: folder + "/x", options: AtomicWriteOptions(durable: false, folderSyncs: batch))
        XCTAssertEqual(batch.pendingFolders, [])
    }

    func testAFailedWriteAddsNothingToTheBatch() throws {
        let batch = FolderSyncBatch()
        XCTAssertThrowsError(
            try AtomicFileWriter.write(to: folder + "/y", options: AtomicWriteOptions(folderSyncs: batch)) { writer in
                try writer.write([1])
                throw Interrupted()
            })
        XCTAssertEqual(batch.pendingFolders, [])
    }

    func testSyncAllReportsFoldersThatAreGone() {
        let batch = FolderSyncBatch()
        batch.add(folder + "/gone")
        batch.add(folder)
        XCTAssertEqual(batch.syncAll(), [folder + "/gone"])
        XCTAssertEqual(batch.pendingFolders, [], "forgotten either way")
    }

    // MARK: Names

    func testTemporaryNamesAreHiddenAndRecognised() {
        XCTAssertTrue(AtomicFileWriter.isTemporary(fileName: ".report.json.partial-12-abc"))
        XCTAssertFalse(AtomicFileWriter.isTemporary(fileName: "report.json"))
        XCTAssertFalse(AtomicFileWriter.isTemporary(fileName: "notes.partial-1"), "not hidden: a user's file")
    }

    /// Only a temporary of this host whose process is gone is abandoned: a live writer's, a
    /// live process's, another host's and an older naming's are kept.
    func testOnlyTemporariesOfDeadLocalProcessesAreRemoved() throws {
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let host = AtomicFileWriter.hostTag
        let live = try AtomicFileWriter(path: folder + "/photo.jpg")
        let abandoned = ".label.png.partial-\(host)-\(dead)-9f", otherHost = ".a.png.partial-elsewhere-\(dead)-9f"
        let liveProcess = ".b.png.partial-\(host)-1-9f", oldNaming = ".c.png.partial-\(dead)-9f"
        for name in [abandoned, otherHost, liveProcess, oldNaming] {
            XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data([1])))
        }
        XCTAssertTrue(AtomicFileWriter.isAbandonedTemporary(fileName: abandoned))
        XCTAssertEqual(AtomicFileWriter.removeAbandonedTemporaries(in: folder), [abandoned])
        XCTAssertEqual(
            try names(),
            [liveProcess, oldNaming, (live.temporaryPath as NSString).lastPathComponent, otherHost].sorted())
        try live.write([7])
        try live.commit()
        XCTAssertEqual(try contents(folder + "/photo.jpg"), [7], "the live writer's temporary was left alone")
        XCTAssertFalse(host.contains("-"), "the host field must not contain the separator")
    }

    func testLongNamesKeepTheTemporaryUnderTheNameLimit() throws {
        let name = String(repeating: "é", count: 120)  // 240 UTF-8 bytes
        let writer = try AtomicFileWriter(path: folder + "/" + name)
        XCTAssertLessThanOrEqual((writer.temporaryPath as NSString).lastPathComponent.utf8.count, 255)
        try writer.write([1])
        try writer.commit()
        XCTAssertEqual(try names(), [name])
    }

    func testSplitHandlesBareNamesAndTheRoot() {
        XCTAssertEqual(AtomicFileWriter.split("file").folder, ".")
        XCTAssertEqual(AtomicFileWriter.split("/file").folder, "/")
        XCTAssertEqual(AtomicFileWriter.split("a/b/file").folder, "a/b")
        XCTAssertEqual(AtomicFileWriter.split("a/b/file").name, "file")
    }

    // MARK: Helpers

    /// A folder nobody may create files in: mode 0555 for an ordinary user; for root, who
    /// ignores permissions, a read-only tmpfs mounted there.
    private func makeReadOnlyFolder() throws -> (path: String, release: () -> Void) {
        let path = folder + "/read-only"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if geteuid() != 0 {
            chmod(path, 0o555)
            return (path, { chmod(path, 0o755) })
        }
        guard Self.mount(["-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", path]) else {
            throw XCTSkip("running as root without permission to mount a read-only tmpfs")
        }
        return (path, { _ = Self.mount([path], tool: "/bin/umount") })
    }

    private static func mount(_ arguments: [String], tool: String = "/bin/mount") -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// The real file-system flush where there is one; tests of the batch only need it to succeed.
private func syncfsOrNothing(_ descriptor: Int32) -> Int32 {
    let result = cfilesync_flush_file_system(descriptor)
    return result != 0 && errno == ENOSYS ? 0 : result
}
