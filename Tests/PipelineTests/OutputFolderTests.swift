import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
@testable import Pipeline

/// The output folder a run prepares: its configuration fingerprint, lock, place and files.
final class OutputFolderTests: RunnerTestCase {
    func testChangedConfigurationIsRefusedUnlessRestarted() throws {
        let inputs = try makeInputs()
        let output = root + "/out"
        _ = try runner(try configuration(inputs, output: output)).run()
        let changed = try configuration(inputs, output: output, filter: "sunglasses")
        XCTAssertThrowsError(try runner(changed).run()) { error in
            guard case PipelineRunError.configurationChanged = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try runner(changed).run()) { error in
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
        let insideImages = try configuration(inputs, output: inputs.images + "/prepared")
        XCTAssertThrowsError(try runner(insideImages).run()) { error in
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

    func testClassNamesAreEscapedInClassesJSON() throws {
        let names = ["ha\"ir", "back\\slash", "top/clothes"]
        let text = try PipelineRunner.classesJSON(names)
        struct ClassList: Decodable { var classes: [String] }
        XCTAssertEqual(try JSONDecoder().decode(ClassList.self, from: Data(text.utf8)).classes, names)
        XCTAssertEqual(try PipelineRunner.classesJSON(["hair", "face"]), "{\"classes\": [\"hair\", \"face\"]}\n")
    }
}
