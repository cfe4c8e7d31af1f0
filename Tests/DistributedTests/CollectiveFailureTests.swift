import Distributed
import XCTest

/// `collectively`: work every rank does, whose failure anywhere every rank learns of together.
final class CollectiveFailureTests: XCTestCase {
    private struct Broken: Error, CustomStringConvertible {
        var description: String { "the run folder is a file" }
    }

    func testOneProcessRethrowsItsOwnErrorUnchanged() {
        XCTAssertThrowsError(try SingleProcess().collectively { throw Broken() }) { error in
            XCTAssertTrue(error is Broken, "\(type(of: error))")
        }
        XCTAssertEqual(try SingleProcess().collectively { 7 }, 7)
    }

    func testEveryRankThrowsAndOnlyTheLowestFailingRankReports() throws {
        // Rank 1 of 3 failed; the minimum over the ranks' (failed ? rank : max) is 1.
        let rankOne = Agreeing(rank: 1, lowestFailure: 1)
        XCTAssertThrowsError(try rankOne.collectively { throw Broken() }) { error in
            let failure = error as? CollectiveFailure
            XCTAssertEqual(failure?.failedRank, 1)
            XCTAssertEqual(failure?.isReportedHere, true)
            XCTAssertEqual("\(error)", "the run folder is a file")
        }
        let rankTwo = Agreeing(rank: 2, lowestFailure: 1)
        XCTAssertThrowsError(try rankTwo.collectively { 5 }) { error in
            XCTAssertEqual((error as? CollectiveFailure)?.isReportedHere, false, "rank 2 did not fail: nothing shown")
            XCTAssertEqual("\(error)", "rank 1 failed (its error is reported there)")
        }
        let rankThree = Agreeing(rank: 3, lowestFailure: 1)
        XCTAssertThrowsError(try rankThree.collectively { throw Broken() }) { error in
            XCTAssertEqual((error as? CollectiveFailure)?.isReportedHere, false, "rank 1's copy is the one shown")
        }
        XCTAssertEqual(try Agreeing(rank: 0, lowestFailure: Int64.max).collectively { "fine" }, "fine")
    }
}

/// A rank of 4 whose minimum collective returns `lowestFailure` (what the other ranks said).
private final class Agreeing: Communicator, @unchecked Sendable {
    let rank: Int
    let lowestFailure: Int64
    init(rank: Int, lowestFailure: Int64) {
        self.rank = rank
        self.lowestFailure = lowestFailure
    }
    var size: Int { 4 }
    func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    func maximum(_ values: UnsafeMutableBufferPointer<Int64>) {}
    func minimum(_ values: UnsafeMutableBufferPointer<Int64>) {
        for index in values.indices { values[index] = min(values[index], lowestFailure) }
    }
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    func barrier() {}
    func duplicate() -> Communicator { self }
}
