import Foundation
import FuzzTargets
import XCTest
import _TestSupport

/// Every committed fuzzing input, the corpora and the crashers the fuzzer found (fixed since),
/// runs through its target in the normal build: a regression brings a crash (or a violated
/// round trip) back into the test suite, not only into the next fuzzing session.
final class CorpusReplayTests: XCTestCase {
    static let fuzz = TestPaths.repositoryRoot.appendingPathComponent("Fuzz")

    func testEveryTargetHasACorpusAndADictionary() throws {
        let corpora = try FileManager.default.contentsOfDirectory(
            atPath: Self.fuzz.appendingPathComponent("Corpus").path)
        XCTAssertEqual(Set(corpora.filter { !$0.hasPrefix(".") }), Set(FuzzTarget.all.map(\.name)))
        for target in FuzzTarget.all {
            XCTAssertFalse(try inputs(in: "Corpus", target).isEmpty, "\(target.name) has no corpus")
            let dictionary = Self.fuzz.appendingPathComponent("Dictionaries/\(target.name).dict")
            XCTAssertTrue(FileManager.default.fileExists(atPath: dictionary.path), "\(target.name) has no dictionary")
        }
    }

    func testCorporaReplayWithoutCrashing() throws {
        var replayed = 0
        for target in FuzzTarget.all {
            for file in try inputs(in: "Corpus", target) {
                try Data(contentsOf: file).withUnsafeBytes { target.run($0) }
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 10 * FuzzTarget.all.count / 2)
    }

    func testFoundCrashersReplayWithoutCrashing() throws {
        for target in FuzzTarget.all {
            for file in try inputs(in: "Crashers", target) {
                try Data(contentsOf: file).withUnsafeBytes { target.run($0) }
            }
        }
    }

    private func inputs(in kind: String, _ target: FuzzTarget) throws -> [URL] {
        let folder = Self.fuzz.appendingPathComponent("\(kind)/\(target.name)")
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }
}
