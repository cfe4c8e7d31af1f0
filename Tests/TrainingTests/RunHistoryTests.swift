import Foundation
import XCTest
import _TestSupport

@testable import Training

/// The page's curves: bounded however long the run, every value counted, and a resumed run's
/// history rebuilt from `metrics.jsonl` with the repeated steps' later lines.
final class RunHistoryTests: TemporaryFolderTestCase {
    func testACurveStaysBoundedAndKeepsTheMeanOfItsValues() {
        var series = CurveSeries()
        for step in 1...5_000 { series.add(step: step, value: Float(step)) }
        // 600 points of 1 merge into 300 of 2 at step 600, of 4 at 1200, of 8 at 2400, of 16 at
        // 4800; then 12 more buckets of 16 and an open one of the last 8 values.
        XCTAssertEqual(series.plotted.count, 300 + 12 + 1)
        for point in series.plotted { XCTAssertEqual(point.value, point.step, accuracy: 1e-9, "a bucket's mean") }
        XCTAssertEqual(series.plotted.first?.step, 8.5, "the mean of steps 1…16")
        XCTAssertEqual(series.plotted.last?.step, 4996.5, "the mean of steps 4993…5000")

        var short = CurveSeries()
        short.add(step: 1, value: 2)
        short.add(step: 2, value: .nan)
        short.add(step: 3, value: 4)
        XCTAssertEqual(short.plotted, [CurvePoint(step: 1, value: 2), CurvePoint(step: 3, value: 4)],
                       "a NaN is left out")
    }

    func testAResumedRunsHistoryTakesTheLaterLineOfARepeatedStepAndStopsAtTheCheckpoint() throws {
        func line(_ step: Int, _ total: Float) throws -> String {
            let losses = StepLosses(generator: .init(total: total, adversarial: 0, featureMatching: 0,
                                                     kullbackLeibler: 0),
                                    discriminator: .init(total: 1, fake: 0.5, real: 0.5))
            let metrics = StepMetrics(step: step, lastStep: 9, epoch: 1, generatorLearningRate: 1e-4,
                                      discriminatorLearningRate: 4e-4, losses: losses, seconds: 1, samplesPerSecond: 1,
                                      skippedRecords: 0)
            return String(decoding: try JSONEncoder().encode(metrics), as: UTF8.self)
        }
        // Steps 1–4 (the process died after 4, its last checkpoint was 2), then 3–6 again,
        // then a damaged line; the run resumes from the checkpoint of step 5.
        let lines = try [line(1, 10), line(2, 20), line(3, 30), line(4, 40),
                         line(3, 31), line(4, 41), line(5, 51), line(6, 61)] + ["{not json"]
        let file = folder.appendingPathComponent("metrics.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        let history = RunHistory.load(metricsFile: file, upTo: 5)
        let totals = try XCTUnwrap(history.series["loss/G/total"]).plotted
        XCTAssertEqual(totals.map(\.step), [1, 2, 3, 4, 5])
        XCTAssertEqual(totals.map(\.value), [10, 20, 31, 41, 51])
        XCTAssertNil(history.series["val/G/total"], "no validation in these lines")
        XCTAssertTrue(RunHistory.load(metricsFile: file, upTo: 0).series.isEmpty, "a fresh run starts empty")
    }
}
