import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
@testable import Pipeline

/// A whole run on the raw format: counts, layout, durability, resume, cancellation and the
/// errors that stop a run.
final class RunnerTests: RunnerTestCase {
    func testWholeRunCountsEveryOutcomeAndWritesTheLayout() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output))
        let observed = ObservedStems()
        runner.observer = { sample, storedPhoto in
            observed.add(
                sample.flatStem, sample.label, storedPhoto: storedPhoto,
                path: PreparedLayout.photoPath(flatStem: sample.flatStem, split: sample.split))
        }
        let report = try runner.run()

        XCTAssertEqual(report.photosFound, 17)
        // The observer saw each kept sample with the bytes that ended up in its photo file.
        XCTAssertEqual(observed.count, 12)
        for (path, bytes) in observed.storedPhotos {
            XCTAssertEqual(bytes, FileManager.default.contents(atPath: output + "/" + path).map { [UInt8]($0) }, path)
        }
        XCTAssertEqual(report.labelsFound, 17)
        XCTAssertEqual(report.pairs, 16)
        XCTAssertEqual(report.kept, 12)
        XCTAssertEqual(report.train + report.validation, 12)
        XCTAssertEqual(report.dropped, 6)
        XCTAssertEqual(report.droppedByReason, [
            "photo-without-label": 1, "label-without-photo": 1, "undecodable": 1, "size-mismatch": 1,
            "unknown-label-value": 1, "filtered": 1,
        ])
        XCTAssertEqual(report.filteredByClass, ["glove": 1])
        let bad = Dictionary(uniqueKeysWithValues: report.droppedSamples.map { ($0.stem, $0) })
        XCTAssertEqual(
            bad["MEN/Denim/id_00000014/01_1_front"]?.detail,
            .sizeMismatch(photoWidth: 8, photoHeight: 5, labelWidth: 8, labelHeight: 6))
        XCTAssertEqual(bad["MEN/Denim/id_00000015/01_1_front"]?.detail, .unknownLabelValue(value: 42, pixels: 48))
        XCTAssertEqual(
            bad["MEN/Denim/id_00000016/01_1_front"]?.detail,
            .filtered(sourceClass: "glove", pixels: 48, limit: Double(48) * 0.1 / 100))
        XCTAssertEqual(
            bad["MEN/Denim/id_00000013/01_1_front"]?.detail,
            .undecodable(file: "MEN/Denim/id_00000013/01_1_front.png", message: "not a PNG, JPEG or TIFF file"))
        XCTAssertEqual(bad["MEN/Denim/id_00000011/01_1_front"]?.photo, "MEN/Denim/id_00000011/01_1_front.jpg")

        // Layout: every kept sample has a photo and a label under its split, nothing else.
        let manager = FileManager.default
        var written = 0
        for split in DataSplit.allCases {
            let photos = (try? manager.contentsOfDirectory(atPath: output + "/" + split.photoFolder)) ?? []
            let labels = (try? manager.contentsOfDirectory(atPath: output + "/" + split.labelFolder)) ?? []
            XCTAssertEqual(
                photos.map { ($0 as NSString).deletingPathExtension }.sorted(),
                labels.map { ($0 as NSString).deletingPathExtension }.sorted())
            XCTAssertTrue(photos.allSatisfy { $0.hasSuffix(".jpg") && $0.hasPrefix("WOMEN-Dresses-id_0000000") })
            written += photos.count
        }
        XCTAssertEqual(written, 12)
        let split = Partitioner.hashedSplit(itemID: "id_00000001", validationFraction: 0.08)
        let labelFile = "\(output)/\(split.labelFolder)/WOMEN-Dresses-id_00000001-01_1_front.png"
        let label = try Self.decodeRaw(labelFile, channels: 1).2
        XCTAssertEqual(Array(label[0..<8]), [UInt8](repeating: 0, count: 8), "hair → 0")
        XCTAssertEqual(Array(label[8..<16]), [UInt8](repeating: 1, count: 8), "face → 1")
        XCTAssertEqual(Set(label), [0, 1, 3, 4, 6, 7])
        for name in ["report.json", "summary.txt", "pipeline.yaml", "classes.json"] {
            XCTAssertTrue(manager.fileExists(atPath: output + "/" + name), name)
        }
        XCTAssertEqual(
            try String(contentsOfFile: output + "/classes.json", encoding: .utf8),
            "{\"classes\": [\"hair\", \"face\", \"skin\", \"top-clothes\", \"bottom-clothes\", \"socks\", "
                + "\"shoes\", \"background\"]}\n")
        let reportData = try Data(contentsOf: URL(fileURLWithPath: output + "/report.json"))
        let reread = try JSONDecoder().decode(RunReport.self, from: reportData)
        XCTAssertEqual(reread, report)
        XCTAssertTrue(try String(contentsOfFile: output + "/summary.txt", encoding: .utf8).contains("kept 12"))
        XCTAssertEqual(observed.count, 12)
        XCTAssertEqual(observed.labels.allSatisfy { $0.values.allSatisfy { $0 < 8 } }, true)
        XCTAssertFalse(
            try allFiles(output).contains { ($0 as NSString).lastPathComponent.contains(".partial-") },
            "no temporary file is left")
    }

    /// Durable runs defer folder syncs to the journal: when the run returns, every output
    /// folder has been synced (none is left pending) and no temporary file remains.
    func testDurableRunLeavesNoFolderUnsynced() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output), durable: true)
        let report = try runner.run()
        XCTAssertEqual(report.kept, 12)
        XCTAssertEqual(runner.outputFolderSyncs.pendingFolders, [])
        XCTAssertFalse(try allFiles(output).contains { ($0 as NSString).lastPathComponent.contains(".partial-") })
    }

    func testResumeAfterACrashSkipsJournaledSamples() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let first = try runner(try configuration(inputs, output: output)).run()
        XCTAssertEqual(first.processedThisRun, 16)

        // A crash after five journaled samples, in the middle of writing the sixth line.
        let journal = output + "/.smisprep/journal-0-of-1.jsonl"
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        let torn = lines.prefix(5).joined(separator: "\n") + "\n" + lines[5].prefix(20)
        try torn.write(toFile: journal, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: output + "/report.json")

        let second = try runner(try configuration(inputs, output: output)).run()
        XCTAssertEqual(second.resumed, 5)
        XCTAssertEqual(second.processedThisRun, 11)
        XCTAssertEqual(second.kept, first.kept)
        XCTAssertEqual(second.droppedByReason, first.droppedByReason)
        XCTAssertEqual(Set(second.droppedSamples.map(\.stem)), Set(first.droppedSamples.map(\.stem)))

        let third = try runner(try configuration(inputs, output: output)).run()
        XCTAssertEqual(third.processedThisRun, 0, "a finished run has nothing left to do")
        XCTAssertEqual(third.kept, 12)
    }

    /// A killed run's temporaries (this host, process gone) are deleted when the next run
    /// starts; the run then finishes as usual.
    func testAbandonedTemporariesAreRemovedWhenARunStarts() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let probe = try AtomicFileWriter(path: root + "/probe")
        let temporaryName = (probe.temporaryPath as NSString).lastPathComponent
        let host = temporaryName.components(separatedBy: ".partial-")[1].components(separatedBy: "-")[0]
        probe.discard()
        let leftovers = ["train/.WOMEN-x.jpg.partial-\(host)-\(finished.processIdentifier)-1",
                         "split/WOMEN-x/.0-hair.png.partial-\(host)-\(finished.processIdentifier)-2"]
        for path in leftovers {
            try FileManager.default.createDirectory(
                atPath: ((output + "/" + path) as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: output + "/" + path, contents: Data([1])))
        }
        XCTAssertEqual(try runner(try configuration(inputs, output: output)).run().kept, 12)
        for path in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/" + path), path) }
    }

    /// A file that cannot be renamed into place (a folder holds its name) fails the run on the
    /// committer thread: the error names the file, no temporary is left behind, the journal
    /// does not list that sample, and once the obstacle is gone a re-run finishes.
    func testCommitFailureFailsTheRunAndLeavesNoTemporaries() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let stem = "WOMEN-Dresses-id_00000003-01_1_front"
        for split in DataSplit.allCases {
            try FileManager.default.createDirectory(
                atPath: "\(output)/\(split.photoFolder)/\(stem).jpg/blocker", withIntermediateDirectories: true)
        }
        XCTAssertThrowsError(try runner(try configuration(inputs, output: output), durable: true).run()) { error in
            guard case PipelineRunError.writeFailed(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\(stem).jpg"), message)
        }
        let leftovers = FileManager.default.enumerator(atPath: output)!.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".") && $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [])
        let journaled = try journaledStems(in: output)
        XCTAssertFalse(journaled.map { $0.replacingOccurrences(of: "/", with: "-") }.contains(stem))

        for split in DataSplit.allCases {
            try FileManager.default.removeItem(atPath: "\(output)/\(split.photoFolder)/\(stem).jpg")
        }
        let report = try runner(try configuration(inputs, output: output)).run()
        XCTAssertEqual(report.kept, 12)
        XCTAssertEqual(report.resumed + report.processedThisRun, 16)
    }

    /// Cancelling stops the workers; samples already written are still committed (the worker
    /// may be up to the committer's queue ahead of the progress callback), and the next run
    /// resumes exactly after them.
    func testCancelStopsAndTheNextRunFinishes() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output), jobs: 1)
        runner.progress = { [unowned runner] progress in if progress.processed == 3 { runner.cancel() } }
        let committed = committedBeforeCancelling(runner)
        XCTAssertTrue(
            (3...6).contains(committed),
            "\(committed) samples committed after cancelling at 3 (queue of 2, one in hand)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/report.json"))
        try assertNextRunResumes(try configuration(inputs, output: output), committed: committed)
    }

    /// The same with durable writes, which are committed in batches: whatever was finished
    /// when the cancel came is flushed, renamed and journaled, and only that is skipped next time.
    func testCancellingADurableRunCommitsItsLastBatch() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output), jobs: 2, durable: true)
        runner.progress = { [unowned runner] progress in if progress.processed >= 1 { runner.cancel() } }
        let committed = committedBeforeCancelling(runner)
        XCTAssertGreaterThanOrEqual(committed, 1)
        let journaled = try journaledStems(in: output).count
        XCTAssertEqual(journaled, committed, "every committed sample is journaled, and no other")
        let leftovers = FileManager.default.enumerator(atPath: output)!.compactMap { $0 as? String }
            .filter { $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [])
        try assertNextRunResumes(try configuration(inputs, output: output), committed: committed, durable: true)
    }

    /// Runs `runner`, which cancels itself, and returns how many samples it committed.
    private func committedBeforeCancelling(
        _ runner: PipelineRunner, file: StaticString = #filePath, line: UInt = #line
    ) -> Int {
        var committed = 0
        XCTAssertThrowsError(try runner.run(), file: file, line: line) { error in
            guard case PipelineRunError.cancelled(let processed) = error else {
                return XCTFail("\(error)", file: file, line: line)
            }
            committed = processed
        }
        return committed
    }

    /// The next run skips the `committed` samples, prepares the other 16 and keeps 12 in all.
    private func assertNextRunResumes(
        _ configuration: PipelineConfiguration, committed: Int, durable: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let report = try runner(configuration, durable: durable).run()
        XCTAssertEqual(report.resumed, committed, file: file, line: line)
        XCTAssertEqual(report.processedThisRun, 16 - committed, file: file, line: line)
        XCTAssertEqual(report.kept, 12, file: file, line: line)
    }

    /// A file that cannot be read (permissions, an I/O error) is a drop in this run's report,
    /// but not journaled: once readable, the next run prepares it.
    func testAnUnreadableFileIsReportedAndTriedAgainByTheNextRun() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let blocked = "WOMEN/Dresses/id_00000002/02_2_side.jpg"
        let readable = UnreadableSwitch()
        var codecs = Self.rawCodecs
        let open = codecs.openPhoto
        codecs.openPhoto = { path in
            if path.hasSuffix(blocked), !readable.isOn {
                throw ImageIOError(source: path, reason: .unreadable("Permission denied"))
            }
            return try open(path)
        }
        let first = runner(try configuration(inputs, output: output))
        first.codecs = codecs
        let report = try first.run()
        let stem = "WOMEN/Dresses/id_00000002/02_2_side"
        let drop = try XCTUnwrap(report.droppedSamples.first { $0.stem == stem })
        XCTAssertTrue(
            drop.explanation.contains("Permission denied (not journaled: a re-run tries it again)"), drop.explanation)
        readable.isOn = true
        let second = runner(try configuration(inputs, output: output))
        second.codecs = codecs
        let again = try second.run()
        XCTAssertEqual(again.processedThisRun, 1)
        XCTAssertEqual(again.kept, report.kept + 1)
        XCTAssertFalse(again.droppedSamples.contains { $0.stem == stem })
    }

    func testMissingFoldersAreClearErrors() throws {
        var configuration = try PipelineFixtures.configuration()
        XCTAssertThrowsError(try runner(configuration).run()) {
            XCTAssertEqual("\($0)", "no 'images' folder given (set it in the pipeline file or on the command line)")
        }
        configuration.images = "/nonexistent"
        configuration.labels = "/nonexistent"
        configuration.output = "/tmp/x"
        XCTAssertThrowsError(try runner(configuration).run()) {
            XCTAssertEqual("\($0)", "images '/nonexistent' is not a folder")
        }
    }
}
