import AtomicFiles
import Foundation
import Statistics

/// Why worker reports could not be merged.
public struct MergeError: Error, CustomStringConvertible, Sendable {
    public let folder: String
    public let message: String
    public var description: String { "\(folder): \(message)" }
}

extension RunReport {
    /// Joins the `report-worker-I-of-N.json` files that N workers wrote into one output folder:
    /// checks that all N are present (naming the missing ones) and agree on N, adds the joined
    /// set's `statistics` when given, then writes `report.json` and `summary.txt` there and
    /// returns the merged report.
    ///
    /// Worker slices gather no statistics: finished figures (medians, duplicate groups) cannot
    /// be added exactly, so `statistics` is meant to scan the joined folder once
    /// (`RunStatistics.scan`). It runs after the checks, before anything is written.
    public static func mergeWorkerReports(
        in folder: String, statistics: (() throws -> DatasetStatistics)? = nil
    ) throws -> RunReport {
        // A merge killed while writing report.json or summary.txt left its temporaries here.
        AtomicFileWriter.removeAbandonedTemporaries(in: folder)
        let names = WorkerOutputGathering.workerReports(in: folder)
        guard !names.isEmpty else { throw MergeError(folder: folder, message: "no report-worker-*.json files") }
        var reports: [RunReport] = []
        let decoder = JSONDecoder()
        for name in names.sorted() {
            let path = folder + "/" + name
            do {
                reports.append(try decoder.decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                throw MergeError(folder: folder, message: "\(name): unreadable report: \(error.localizedDescription)")
            }
        }
        let counts = Set(reports.map(\.workers))
        guard counts.count == 1, let workers = counts.first else {
            throw MergeError(folder: folder, message: "reports of different worker counts: \(counts.sorted())")
        }
        let present = Set(reports.map(\.worker))
        let missing = (0..<workers).filter { !present.contains($0) }
        guard missing.isEmpty else {
            let slices = missing.map { "\($0)/\(workers)" }.joined(separator: ", ")
            throw MergeError(folder: folder, message: "missing the reports of workers \(slices); run them first")
        }
        guard present.count == reports.count else {
            throw MergeError(folder: folder, message: "a worker's report appears twice")
        }
        var merged = RunReport.merged(reports)
        merged.workers = workers
        merged.statistics = try statistics?()
        do {
            try merged.writeReportAndSummary(in: folder)
        } catch {
            throw MergeError(folder: folder, message: String(describing: error))
        }
        return merged
    }
}
