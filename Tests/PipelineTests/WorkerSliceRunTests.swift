import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
@testable import Pipeline

/// Worker slices (`--worker I/N`): merging their reports and gathering their folders.
final class WorkerSliceRunTests: RunnerTestCase {
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
                    XCTAssertTrue(
                        FileManager.default.contentsEqual(
                            atPath: "\(root)/whole/\(folder)/\(name)", andPath: "\(gathered)/\(folder)/\(name)"),
                        name)
                }
            }
        }
        let again = try WorkerOutputGathering.gather(from: folders, into: gathered)
        XCTAssertEqual(again.filesAdded, 0)
        XCTAssertEqual(
            again.filesAlreadyPresent, summary.filesAdded - 3, "all but the three shared files, which come once")
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
        let conflict = root + "/conflict"
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, second], into: conflict)) { error in
            XCTAssertTrue("\(error)".contains(photo) && "\(error)".contains(second), "\(error)")
        }

        // Slices of another worker count are refused before anything is gathered.
        let third = root + "/machine-third"
        _ = try runner(try configuration(inputs, output: third), worker: WorkerSlice(index: 1, count: 3)).run()
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, third], into: root + "/counts")) { error in
            XCTAssertTrue(
                "\(error)".contains("is a slice of 3 workers") && "\(error)".contains("nothing was gathered"),
                "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/counts/train"))

        let other = root + "/machine-other"
        let otherConfiguration = try configuration(inputs, output: other, filter: "hair")
        _ = try runner(otherConfiguration, worker: WorkerSlice(index: 1, count: 2)).run()
        XCTAssertThrowsError(try WorkerOutputGathering.gather(from: [first, other], into: root + "/mixed")) { error in
            XCTAssertTrue("\(error)".contains("another configuration") && "\(error)".contains(other), "\(error)")
        }
    }

    func testWorkerSlicesMergeToTheWholeRun() throws {
        let inputs = try makeInputs()
        let whole = try runner(try configuration(inputs, output: root + "/whole")).run()
        let shared = root + "/sliced"
        var slices: [RunReport] = []
        for index in 0..<3 {
            let slice = WorkerSlice(index: index, count: 3)
            slices.append(try runner(try configuration(inputs, output: shared), worker: slice).run())
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
        let halves = try configuration(inputs, output: shared)
        XCTAssertThrowsError(try runner(halves, worker: WorkerSlice(index: 0, count: 2)).run()) { error in
            guard case PipelineRunError.otherWorkerCount = error else { return XCTFail("\(error)") }
        }
    }
}
