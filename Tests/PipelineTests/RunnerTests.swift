import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
@testable import Pipeline

/// The runner on its own: a trivial raw format stands in for the codecs, samples are at the
/// training size (no resampling), so resume, slices, cancellation and the report are tested
/// independently of ImageIO.
final class RunnerTests: XCTestCase {
    /// "RAW" + channels byte + width and height (UInt16 LE) + pixels.
    static func raw(_ width: Int, _ height: Int, channels: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        [82, 65, 87, channels, UInt8(width & 255), UInt8(width >> 8), UInt8(height & 255), UInt8(height >> 8)] + bytes
    }

    static func decodeRaw(_ path: String, channels: UInt8) throws -> (Int, Int, [UInt8]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageIOError(source: path, reason: .unreadable("missing"))
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 8, bytes[0..<3] == [82, 65, 87], bytes[3] == channels else {
            throw ImageIOError(source: path, reason: .unknownFormat)
        }
        let width = Int(bytes[4]) | Int(bytes[5]) << 8, height = Int(bytes[6]) | Int(bytes[7]) << 8
        guard bytes.count == 8 + width * height * Int(channels) else {
            throw ImageIOError(source: path, reason: .corrupt("truncated"))
        }
        return (width, height, Array(bytes[8...]))
    }

    static let rawCodecs = SampleCodecs(
        openPhoto: { path in
            let (width, height, pixels) = try decodeRaw(path, channels: 3)
            return PhotoInput(Image(width: width, height: height, pixels: pixels))
        },
        readLabel: { path in
            let (width, height, values) = try decodeRaw(path, channels: 1)
            return LabelInput(LabelMap(width: width, height: height, values: values))
        },
        encodePhoto: { photo, _ in raw(photo.width, photo.height, channels: 3, photo.pixels) },
        encodeLabel: { label, _ in raw(label.width, label.height, channels: 1, label.values) },
        encodeCrop: { crop in raw(crop.width, crop.height, channels: 3, crop.pixels) })

    private let width = 8, height = 6
    private var root = ""

    /// 12 good samples over 4 items, plus one bad input of every kind.
    private func makeInputs() throws -> (images: String, labels: String) {
        root = try PipelineFixtures.temporaryFolder(self)
        let images = root + "/img", labels = root + "/labels"
        func photo(_ stem: String, _ w: Int = 8, _ h: Int = 6) throws {
            try PipelineFixtures.write(Self.raw(w, h, channels: 3, [UInt8](repeating: 100, count: w * h * 3)), to: "\(images)/\(stem).jpg")
        }
        func label(_ stem: String, _ values: [UInt8]? = nil, _ w: Int = 8, _ h: Int = 6) throws {
            // Hair on the top row, face, upper clothes, pants, shoes, background elsewhere.
            var v = values ?? [UInt8](repeating: 0, count: w * h)
            if values == nil { for x in 0..<w { v[x] = 2; v[w + x] = 13; v[2 * w + x] = 5; v[3 * w + x] = 9; v[4 * w + x] = 18 } }
            try PipelineFixtures.write(Self.raw(w, h, channels: 1, v), to: "\(labels)/\(stem).png")
        }
        for item in 1...4 {
            for view in ["01_1_front", "02_2_side", "03_3_back"] {
                let stem = "WOMEN/Dresses/id_0000000\(item)/\(view)"
                try photo(stem)
                try label(stem)
            }
        }
        try photo("MEN/Denim/id_00000011/01_1_front")                      // no label
        try label("MEN/Denim/id_00000012/01_1_front")                      // no photo
        try photo("MEN/Denim/id_00000013/01_1_front")
        try PipelineFixtures.write([1, 2, 3], to: "\(labels)/MEN/Denim/id_00000013/01_1_front.png")  // undecodable
        try photo("MEN/Denim/id_00000014/01_1_front", 8, 5)
        try label("MEN/Denim/id_00000014/01_1_front")                      // size mismatch
        try photo("MEN/Denim/id_00000015/01_1_front")
        try label("MEN/Denim/id_00000015/01_1_front", [UInt8](repeating: 42, count: 48))  // unknown value
        try photo("MEN/Denim/id_00000016/01_1_front")
        try label("MEN/Denim/id_00000016/01_1_front", [UInt8](repeating: 3, count: 48))   // all glove
        return (images, labels)
    }

    private func configuration(_ inputs: (images: String, labels: String), output: String, filter: String = "glove") throws -> PipelineConfiguration {
        try PipelineFixtures.configuration {
            $0.images = inputs.images
            $0.labels = inputs.labels
            $0.output = output
            $0.size = Size(width: 8, height: 6)
            $0.filterClasses = [filter]
        }
    }

    private func runner(_ configuration: PipelineConfiguration, worker: WorkerSlice = .whole, jobs: Int = 2, restart: Bool = false,
                        durable: Bool = false) -> PipelineRunner {
        let runner = PipelineRunner(configuration: configuration, options: RunOptions(jobs: jobs, worker: worker, restart: restart, durable: durable))
        runner.codecs = Self.rawCodecs
        return runner
    }

    func testWholeRunCountsEveryOutcomeAndWritesTheLayout() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output))
        let observed = ObservedStems()
        runner.observer = { sample, storedPhoto in
            observed.add(sample.flatStem, sample.label, storedPhoto: storedPhoto, path: PreparedLayout.photoPath(flatStem: sample.flatStem, split: sample.split))
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
        XCTAssertEqual(bad["MEN/Denim/id_00000014/01_1_front"]?.detail, .sizeMismatch(photoWidth: 8, photoHeight: 5, labelWidth: 8, labelHeight: 6))
        XCTAssertEqual(bad["MEN/Denim/id_00000015/01_1_front"]?.detail, .unknownLabelValue(value: 42, pixels: 48))
        XCTAssertEqual(bad["MEN/Denim/id_00000016/01_1_front"]?.detail, .filtered(sourceClass: "glove", pixels: 48, limit: Double(48) * 0.1 / 100))
        XCTAssertEqual(bad["MEN/Denim/id_00000013/01_1_front"]?.detail,
                       .undecodable(file: "MEN/Denim/id_00000013/01_1_front.png", message: "not a PNG, JPEG or TIFF file"))
        XCTAssertEqual(bad["MEN/Denim/id_00000011/01_1_front"]?.photo, "MEN/Denim/id_00000011/01_1_front.jpg")

        // Layout: every kept sample has a photo and a label under its split, nothing else.
        let manager = FileManager.default
        var written = 0
        for split in DataSplit.allCases {
            let photos = (try? manager.contentsOfDirectory(atPath: output + "/" + split.photoFolder)) ?? []
            let labels = (try? manager.contentsOfDirectory(atPath: output + "/" + split.labelFolder)) ?? []
            XCTAssertEqual(photos.map { ($0 as NSString).deletingPathExtension }.sorted(), labels.map { ($0 as NSString).deletingPathExtension }.sorted())
            XCTAssertTrue(photos.allSatisfy { $0.hasSuffix(".jpg") && $0.hasPrefix("WOMEN-Dresses-id_0000000") })
            written += photos.count
        }
        XCTAssertEqual(written, 12)
        let split = Partitioner.hashedSplit(itemID: "id_00000001", validationFraction: 0.08)
        let label = try Self.decodeRaw("\(output)/\(split.labelFolder)/WOMEN-Dresses-id_00000001-01_1_front.png", channels: 1).2
        XCTAssertEqual(Array(label[0..<8]), [UInt8](repeating: 0, count: 8), "hair → 0")
        XCTAssertEqual(Array(label[8..<16]), [UInt8](repeating: 1, count: 8), "face → 1")
        XCTAssertEqual(Set(label), [0, 1, 3, 4, 6, 7])
        for name in ["report.json", "summary.txt", "pipeline.yaml", "classes.json"] {
            XCTAssertTrue(manager.fileExists(atPath: output + "/" + name), name)
        }
        XCTAssertEqual(try String(contentsOfFile: output + "/classes.json", encoding: .utf8),
                       "{\"classes\": [\"hair\", \"face\", \"skin\", \"top-clothes\", \"bottom-clothes\", \"socks\", \"shoes\", \"background\"]}\n")
        let reread = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
        XCTAssertEqual(reread, report)
        XCTAssertTrue(try String(contentsOfFile: output + "/summary.txt", encoding: .utf8).contains("kept 12"))
        XCTAssertEqual(observed.count, 12)
        XCTAssertEqual(observed.labels.allSatisfy { $0.values.allSatisfy { $0 < 8 } }, true)
        XCTAssertFalse(try allFiles(output).contains { ($0 as NSString).lastPathComponent.contains(".partial-") }, "no temporary file is left")
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
        try (lines.prefix(5).joined(separator: "\n") + "\n" + lines[5].prefix(20)).write(toFile: journal, atomically: true, encoding: .utf8)
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

    /// Workers without a shared file system write one folder each; gathered into one folder
    /// they merge to the whole run's report and files, the sources stay as they were, and a
    /// second gathering adds nothing.
    func testWorkerFoldersGatherIntoOneAndMergeToTheWholeRun() throws {
        let inputs = try makeInputs()
        let whole = try runner(try configuration(inputs, output: root + "/whole")).run()
        var folders: [String] = []
        for index in 0..<3 {
            let folder = root + "/machine-\(index)"
            folders.append(folder)
            _ = try runner(try configuration(inputs, output: folder), worker: WorkerSlice(index: index, count: 3)).run()
        }
        let before = try listing(folders[1])
        let gathered = root + "/gathered"
        let summary = try WorkerOutputGathering.gather(from: folders, into: gathered)
        XCTAssertEqual(summary.workerReports, 3)
        XCTAssertEqual(summary.filesAlreadyPresent, 0)
        XCTAssertEqual(try listing(folders[1]), before, "a source folder is left as it was")

        let merged = try RunReport.mergeWorkerReports(in: gathered)
        XCTAssertEqual(merged.kept, 12)
        XCTAssertEqual(merged.kept, whole.kept)
        XCTAssertEqual(merged.droppedByReason, whole.droppedByReason)
        for split in DataSplit.allCases {
            for folder in [split.photoFolder, split.labelFolder] {
                let names = (try? listing(root + "/whole/" + folder)) ?? []
                XCTAssertEqual((try? listing(gathered + "/" + folder)) ?? [], names, folder)
                for name in names {
                    XCTAssertTrue(FileManager.default.contentsEqual(atPath: "\(root)/whole/\(folder)/\(name)", andPath: "\(gathered)/\(folder)/\(name)"), name)
                }
            }
        }
        let again = try WorkerOutputGathering.gather(from: folders, into: gathered)
        XCTAssertEqual(again.filesAdded, 0)
        XCTAssertEqual(again.filesAlreadyPresent, summary.filesAdded - 3, "all but the three shared files, which come once")
    }

    /// A name two folders hold with different bytes, and a folder prepared with another
    /// configuration, are refused with the folders named.
    func testGatheringRefusesConflictsAndOtherConfigurations() throws {
        let inputs = try makeInputs()
        let first = root + "/machine-0", second = root + "/machine-1"
        _ = try runner(try configuration(inputs, output: first), worker: WorkerSlice(index: 0, count: 2)).run()
        _ = try runner(try configuration(inputs, output: second), worker: WorkerSlice(index: 1, count: 2)).run()
        let photo = try XCTUnwrap(try listing(first + "/train").first)
        try FileManager.default.createDirectory(atPath: second + "/train", withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: second + "/train/" + photo))
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, second], into: root + "/conflict")) { error in
            XCTAssertTrue("\(error)".contains(photo) && "\(error)".contains(second), "\(error)")
        }

        // Slices of another worker count are refused before anything is gathered.
        let third = root + "/machine-third"
        _ = try runner(try configuration(inputs, output: third), worker: WorkerSlice(index: 1, count: 3)).run()
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, third], into: root + "/counts")) { error in
            XCTAssertTrue("\(error)".contains("is a slice of 3 workers") && "\(error)".contains("nothing was gathered"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/counts/train"))

        let other = root + "/machine-other"
        _ = try runner(try configuration(inputs, output: other, filter: "hair"), worker: WorkerSlice(index: 1, count: 2)).run()
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, other], into: root + "/mixed")) { error in
            XCTAssertTrue("\(error)".contains("another configuration") && "\(error)".contains(other), "\(error)")
        }
    }

    private func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
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
        let host = (probe.temporaryPath as NSString).lastPathComponent.components(separatedBy: ".partial-")[1].components(separatedBy: "-")[0]
        probe.discard()
        let leftovers = ["train/.WOMEN-x.jpg.partial-\(host)-\(finished.processIdentifier)-1",
                         "split/WOMEN-x/.0-hair.png.partial-\(host)-\(finished.processIdentifier)-2"]
        for path in leftovers {
            try FileManager.default.createDirectory(atPath: ((output + "/" + path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
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
            try FileManager.default.createDirectory(atPath: "\(output)/\(split.photoFolder)/\(stem).jpg/blocker", withIntermediateDirectories: true)
        }
        XCTAssertThrowsError(try runner(try configuration(inputs, output: output), durable: true).run()) { error in
            guard case PipelineRunError.writeFailed(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\(stem).jpg"), message)
        }
        let leftovers = FileManager.default.enumerator(atPath: output)!.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".") && $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [])
        var journaled: [String] = []
        let journal = try FileManager.default.contentsOfDirectory(atPath: output + "/.smisprep").first { $0.hasPrefix("journal-") }!
        _ = try RunJournal.read(path: output + "/.smisprep/" + journal) { journaled.append($0.stem) }
        XCTAssertFalse(journaled.map { $0.replacingOccurrences(of: "/", with: "-") }.contains(stem))

        for split in DataSplit.allCases { try FileManager.default.removeItem(atPath: "\(output)/\(split.photoFolder)/\(stem).jpg") }
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
        var committed = 0
        XCTAssertThrowsError(try runner.run()) { error in
            guard case PipelineRunError.cancelled(let processed) = error else { return XCTFail("\(error)") }
            committed = processed
        }
        XCTAssertTrue((3...6).contains(committed), "\(committed) samples committed after cancelling at 3 (queue of 2, one in hand)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/report.json"))
        let report = try self.runner(try configuration(inputs, output: output)).run()
        XCTAssertEqual(report.resumed, committed)
        XCTAssertEqual(report.processedThisRun, 16 - committed)
        XCTAssertEqual(report.kept, 12)
    }

    /// The same with durable writes, which are committed in batches: whatever was finished
    /// when the cancel came is flushed, renamed and journaled, and only that is skipped next time.
    func testCancellingADurableRunCommitsItsLastBatch() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let runner = runner(try configuration(inputs, output: output), jobs: 2, durable: true)
        runner.progress = { [unowned runner] progress in if progress.processed >= 1 { runner.cancel() } }
        var committed = 0
        XCTAssertThrowsError(try runner.run()) { error in
            guard case PipelineRunError.cancelled(let processed) = error else { return XCTFail("\(error)") }
            committed = processed
        }
        XCTAssertGreaterThanOrEqual(committed, 1)
        var journaled = 0
        let journal = try FileManager.default.contentsOfDirectory(atPath: output + "/.smisprep").first { $0.hasPrefix("journal-") }!
        _ = try RunJournal.read(path: output + "/.smisprep/" + journal) { _ in journaled += 1 }
        XCTAssertEqual(journaled, committed, "every committed sample is journaled, and no other")
        let leftovers = FileManager.default.enumerator(atPath: output)!.compactMap { $0 as? String }.filter { $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [])
        let report = try self.runner(try configuration(inputs, output: output), durable: true).run()
        XCTAssertEqual(report.resumed, committed)
        XCTAssertEqual(report.processedThisRun, 16 - committed)
        XCTAssertEqual(report.kept, 12)
    }

    func testWorkerSlicesMergeToTheWholeRun() throws {
        let inputs = try makeInputs()
        let whole = try runner(try configuration(inputs, output: root + "/whole")).run()
        let shared = root + "/sliced"
        var slices: [RunReport] = []
        for index in 0..<3 {
            slices.append(try runner(try configuration(inputs, output: shared), worker: WorkerSlice(index: index, count: 3)).run())
        }
        XCTAssertThrowsError(try RunReport.mergeWorkerReports(in: root + "/whole"))
        let merged = try RunReport.mergeWorkerReports(in: shared)
        XCTAssertEqual(merged.workers, 3)
        for (a, b) in [(merged.kept, whole.kept), (merged.pairs, whole.pairs), (merged.photosFound, whole.photosFound),
                       (merged.train, whole.train), (merged.dropped, whole.dropped)] {
            XCTAssertEqual(a, b)
        }
        XCTAssertEqual(merged.droppedByReason, whole.droppedByReason)
        XCTAssertEqual(Set(merged.droppedSamples.map(\.stem)), Set(whole.droppedSamples.map(\.stem)))
        XCTAssertEqual(slices.map(\.pairs).reduce(0, +), 16)
        XCTAssertTrue(FileManager.default.fileExists(atPath: shared + "/report.json"))

        // A missing worker is named.
        try FileManager.default.removeItem(atPath: shared + "/report-worker-1-of-3.json")
        XCTAssertThrowsError(try RunReport.mergeWorkerReports(in: shared)) { error in
            XCTAssertTrue("\(error)".contains("missing the reports of workers 1/3"), "\(error)")
        }
        // Another worker count in the same folder is refused.
        XCTAssertThrowsError(try runner(try configuration(inputs, output: shared), worker: WorkerSlice(index: 0, count: 2)).run()) { error in
            guard case PipelineRunError.otherWorkerCount = error else { return XCTFail("\(error)") }
        }
    }

    func testChangedConfigurationIsRefusedUnlessRestarted() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        _ = try runner(try configuration(inputs, output: output)).run()
        XCTAssertThrowsError(try runner(try configuration(inputs, output: output, filter: "sunglasses")).run()) { error in
            guard case PipelineRunError.configurationChanged = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try runner(try configuration(inputs, output: output, filter: "sunglasses")).run()) { error in
            XCTAssertTrue("\(error)".contains("holds a run prepared with another configuration (now"), "\(error)")
            XCTAssertTrue("\(error)".contains("sunglasses"), "the message names what changed: \(error)")
        }
        // A restart removes the old report at once: stopped before any sample, the folder
        // must not describe samples it no longer holds.
        let stopped = runner(try configuration(inputs, output: output, filter: "sunglasses"), restart: true)
        stopped.cancel()
        XCTAssertThrowsError(try stopped.run())
        for name in [PreparedLayout.report, PreparedLayout.summary] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/" + name), name)
        }
        let restarted = try runner(try configuration(inputs, output: output, filter: "sunglasses"), restart: true).run()
        XCTAssertEqual(restarted.resumed, 0)
        XCTAssertEqual(restarted.kept, 13, "the all-glove sample is kept when only sunglasses are filtered")
    }

    /// Only the shard settings differ: the run resumes (nothing redone, the journal untouched)
    /// instead of being refused, and the effective pipeline.yaml records the new settings.
    func testChangingOnlyTheShardSettingsRedoesNoSample() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        var first = try configuration(inputs, output: output)
        first.outputs.shards = ShardSettings(directory: root + "/shards", sizing: .records(4))
        let whole = try runner(first).run()
        let journal = output + "/.smisprep/journal-0-of-1.jsonl"
        let journalBefore = try Data(contentsOf: URL(fileURLWithPath: journal))

        var second = first
        second.outputs.shards = ShardSettings(directory: root + "/shards", sizing: .bytes(1 << 20), image: .png)
        let again = try runner(second).run()
        XCTAssertEqual(again.processedThisRun, 0)
        XCTAssertEqual(again.resumed, whole.processedThisRun)
        XCTAssertEqual(again.kept, whole.kept)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: journal)), journalBefore)
        let effective = try String(contentsOfFile: output + "/pipeline.yaml", encoding: .utf8)
        XCTAssertTrue(effective.contains("    shard-size: 1048576\n    image: \"png\"\n"), effective)

        // Any other change is still refused.
        var otherSize = second
        otherSize.resize.size.width = 16
        XCTAssertThrowsError(try runner(otherSize).run()) { error in
            guard case PipelineRunError.configurationChanged = error else { return XCTFail("\(error)") }
        }
    }

    func testARunHoldsItsOutputFolderAgainstASecondRunOfTheSameSlice() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let first = try OutputFolderLock(output: output, slice: .whole)
        XCTAssertThrowsError(try runner(try configuration(inputs, output: output)).run()) { error in
            guard case PipelineRunError.outputBusy = error else { return XCTFail("\(error)") }
        }
        let otherSlice = try OutputFolderLock(output: output, slice: WorkerSlice(index: 1, count: 2))
        otherSlice.release()
        first.release()
        XCTAssertNoThrow(try runner(try configuration(inputs, output: output)).run())
    }

    func testAnOutputFolderInsideAnInputOrOnAFileIsRefused() throws {
        let inputs = try makeInputs()
        XCTAssertThrowsError(try runner(try configuration(inputs, output: inputs.images + "/prepared")).run()) { error in
            guard case PipelineRunError.outputInsideInput(_, "images", _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try runner(try configuration(inputs, output: inputs.labels)).run()) { error in
            guard case PipelineRunError.outputInsideInput(_, "labels", _) = error else { return XCTFail("\(error)") }
        }
        let file = root + "/file"
        try PipelineFixtures.write([1], to: file)
        XCTAssertThrowsError(try runner(try configuration(inputs, output: file)).run()) { error in
            XCTAssertEqual("\(error)", "output '\(file)' is not a folder")
        }
    }

    func testTheSameFoldersSpeltDifferentlyResumeTheRun() throws {
        let inputs = try makeInputs()
        let first = try runner(try configuration(inputs, output: root + "/out")).run()
        let respelt = (images: inputs.images + "/", labels: root + "/./labels")
        let again = try runner(try configuration(respelt, output: root + "/x/../out/")).run()
        XCTAssertEqual(again.processedThisRun, 0)
        XCTAssertEqual(again.resumed, first.processedThisRun)
        XCTAssertEqual(again.kept, first.kept)
    }

    /// A folder whose fingerprint an earlier version wrote (paths as given) still resumes.
    func testAFolderOfAnEarlierVersionStillResumes() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        let configuration = try configuration(inputs, output: output)
        let first = try runner(configuration).run()
        try PipelineFixtures.write(Array(PipelineRunner.fingerprintBeforeResolvedPaths(configuration).utf8),
                             to: output + "/" + PreparedLayout.stateFolder + "/configuration.yaml")
        let again = try runner(configuration).run()
        XCTAssertEqual(again.processedThisRun, 0)
        XCTAssertEqual(again.resumed, first.processedThisRun)
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
            if path.hasSuffix(blocked), !readable.isOn { throw ImageIOError(source: path, reason: .unreadable("Permission denied")) }
            return try open(path)
        }
        let first = runner(try configuration(inputs, output: output))
        first.codecs = codecs
        let report = try first.run()
        let stem = "WOMEN/Dresses/id_00000002/02_2_side"
        let drop = try XCTUnwrap(report.droppedSamples.first { $0.stem == stem })
        XCTAssertTrue(drop.explanation.contains("Permission denied (not journaled: a re-run tries it again)"), drop.explanation)
        readable.isOn = true
        let second = runner(try configuration(inputs, output: output))
        second.codecs = codecs
        let again = try second.run()
        XCTAssertEqual(again.processedThisRun, 1)
        XCTAssertEqual(again.kept, report.kept + 1)
        XCTAssertFalse(again.droppedSamples.contains { $0.stem == stem })
    }

    func testClassNamesAreEscapedInClassesJSON() throws {
        let names = ["ha\"ir", "back\\slash", "top/clothes"]
        let text = try PipelineRunner.classesJSON(names)
        struct ClassList: Decodable { var classes: [String] }
        XCTAssertEqual(try JSONDecoder().decode(ClassList.self, from: Data(text.utf8)).classes, names)
        XCTAssertEqual(try PipelineRunner.classesJSON(["hair", "face"]), "{\"classes\": [\"hair\", \"face\"]}\n")
    }

    func testMissingFoldersAreClearErrors() throws {
        var configuration = try PipelineFixtures.configuration()
        XCTAssertThrowsError(try runner(configuration).run()) { XCTAssertEqual("\($0)", "no 'images' folder given (set it in the pipeline file or on the command line)") }
        configuration.images = "/nonexistent"
        configuration.labels = "/nonexistent"
        configuration.output = "/tmp/x"
        XCTAssertThrowsError(try runner(configuration).run()) { XCTAssertEqual("\($0)", "images '/nonexistent' is not a folder") }
    }

    private func allFiles(_ folder: String) throws -> [String] {
        FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
    }
}

/// Collects observer calls from worker threads.
final class ObservedStems: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var stems: [String] = []
    private(set) var labels: [LabelMap] = []
    private(set) var storedPhotos: [(path: String, bytes: [UInt8]?)] = []
    func add(_ stem: String, _ label: LabelMap, storedPhoto: [UInt8]? = nil, path: String? = nil) {
        lock.lock()
        stems.append(stem)
        labels.append(label)
        if let path { storedPhotos.append((path, storedPhoto)) }
        lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return stems.count }
}

final class JournalTests: XCTestCase {
    func testAppendReadAndTornLine() throws {
        let folder = try PipelineFixtures.temporaryFolder(self)
        let path = folder + "/journal.jsonl"
        do {
            let journal = try RunJournal(path: path, batchSize: 2)
            try journal.append(JournalEntry(stem: "a", photo: "a.jpg", label: "a.png", split: .train, dropped: nil))
            try journal.append(JournalEntry(stem: "b", photo: "b.jpg", label: "b.png", split: nil, dropped: .sizeMismatch(photoWidth: 1, photoHeight: 2, labelWidth: 3, labelHeight: 4)))
            try journal.append(JournalEntry(stem: "c", photo: "c.jpg", label: "c.png", split: .validation, dropped: nil))
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
        let folder = try PipelineFixtures.temporaryFolder(self)
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
        guard case .timedOut = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 0.01)) else { return XCTFail("nothing to pop") }
        Thread {
            Thread.sleep(forTimeInterval: 0.05)
            queue.push(7)
        }.start()
        guard case .item(let value) = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 30)) else { return XCTFail("the push wakes the pop") }
        XCTAssertEqual(value, 7)
        queue.close()
        guard case .closed = queue.pop(waitingUntil: Date(timeIntervalSinceNow: 30)) else { return XCTFail("closed and empty") }
    }
}

/// A flag the codecs of a test read from worker threads.
final class UnreadableSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var on = false
    var isOn: Bool {
        get { lock.lock(); defer { lock.unlock() }; return on }
        set { lock.lock(); on = newValue; lock.unlock() }
    }
}
