import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport
@testable import Pipeline

final class JournalTests: XCTestCase {
    func testAppendReadAndTornLine() throws {
        let folder = try temporaryFolder("pipeline-tests").path
        let path = folder + "/journal.jsonl"
        do {
            let journal = try RunJournal(path: path, batchSize: 2)
            try journal.append(JournalEntry(stem: "a", photo: "a.jpg", label: "a.png", split: .train, dropped: nil))
            try journal.append(
                JournalEntry(
                    stem: "b", photo: "b.jpg", label: "b.png", split: nil,
                    dropped: .sizeMismatch(photoWidth: 1, photoHeight: 2, labelWidth: 3, labelHeight: 4)))
            try journal.append(
                JournalEntry(stem: "c", photo: "c.jpg", label: "c.png", split: .validation, dropped: nil))
            try journal.flush()
        }
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write("{\"stem\":\"d\",\"pho".data(using: .utf8)!)
        handle.closeFile()
        var stems: [String] = []
        let counts = try RunJournal.read(path: path) { stems.append($0.stem) }
        XCTAssertEqual(stems, ["a", "b", "c"])
        XCTAssertEqual(counts.unreadableLines, 1)
        // Appending after a torn line starts a fresh line, so the new entry stays readable.
        let journal = try RunJournal(path: path)
        try journal.append(JournalEntry(stem: "e", photo: "e.jpg", label: "e.png", split: .train, dropped: nil))
        try journal.flush()
        stems = []
        try RunJournal.read(path: path) { stems.append($0.stem) }
        XCTAssertEqual(stems, ["a", "b", "c", "e"])
    }

    /// A batch of lines is fsynced only after the folders of their outputs are.
    func testFlushSyncsTheOutputFoldersFirst() throws {
        let folder = try temporaryFolder("pipeline-tests").path
        let folders = FolderSyncBatch()
        let journal = try RunJournal(path: folder + "/journal.jsonl", batchSize: 2, folderSyncs: folders)
        folders.add(folder)
        try journal.append(JournalEntry(stem: "a", photo: "a.jpg", label: "a.png", split: .train, dropped: nil))
        XCTAssertEqual(folders.pendingFolders, [folder], "no batch written yet")
        try journal.append(JournalEntry(stem: "b", photo: "b.jpg", label: "b.png", split: .train, dropped: nil))
        XCTAssertEqual(folders.pendingFolders, [], "the full batch synced its folders")
    }

    func testBoundedQueueDeliversEverythingOnceAcrossThreads() {
        let queue = BoundedQueue<Int>(capacity: 3)
        let collected = ObservedStems()
        let group = DispatchGroup()
        for _ in 0..<3 {
            group.enter()
            Thread {
                while let value = queue.pop() { collected.add(String(value), LabelMap(width: 0, height: 0)) }
                group.leave()
            }.start()
        }
        // Two producers (the committer's queue has one per worker), so producers also wait
        // on each other while the queue is full.
        let producers = DispatchGroup()
        for half in 0..<2 {
            producers.enter()
            Thread {
                for value in stride(from: half, to: 1000, by: 2) { XCTAssertTrue(queue.push(value)) }
                producers.leave()
            }.start()
        }
        producers.wait()
        queue.close()
        group.wait()
        XCTAssertEqual(collected.stems.map { Int($0)! }.sorted(), Array(0..<1000))
        XCTAssertFalse(queue.push(1), "a closed queue takes nothing")
    }

    func testTimedPopWaitsForAnItemOrTheDeadline() {
        let queue = BoundedQueue<Int>(capacity: 2)
        guard case .timedOut = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 0.01)) else {
            return XCTFail("nothing to pop")
        }
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            queue.push(7)
        }.start()
        guard case .item(let value) = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 30)) else {
            return XCTFail("the push wakes the pop")
        }
        XCTAssertEqual(value, 7)
        queue.close()
        guard case .closed = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 30)) else {
            return XCTFail("closed and empty")
        }
    }
}
