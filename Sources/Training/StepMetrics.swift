import AtomicFiles
import Foundation

/// What one step reports: its number, epoch, rates, losses and speed, and on some steps the
/// validation losses. The trainer appends it as one JSON line to `metrics.jsonl` in the run
/// folder, logs it to TensorBoard and hands it to the caller's progress callback; the library
/// prints nothing.
public struct StepMetrics: Codable, Equatable, Sendable {
    /// The step count after this step (1 for the first step of a run).
    public var step: Int
    public var lastStep: Int
    public var epoch: Int
    public var generatorLearningRate: Float
    public var discriminatorLearningRate: Float
    /// The losses of the whole global batch (in a data-parallel run, the ranks' mean).
    public var losses: StepLosses
    /// Wall time of the iteration (batch assembly, G step, D step), seconds.
    public var seconds: Double
    /// Samples of the global batch per second of `seconds`.
    public var samplesPerSecond: Double
    /// Damaged records the reader has skipped so far (each reported by the caller).
    public var skippedRecords: Int
    /// The part of `seconds` spent waiting for the batch (`ShardBatches.next()`), 0…1. Nil in
    /// lines written before it was measured.
    public var dataWaitShare: Double?
    /// The validation losses, on the steps where `--val-every` computed them (after the step).
    public var validation: ValidationMetrics?
    /// Communication figures of a data-parallel run; nil on one process.
    public var dataParallel: DataParallelMetrics?
}

/// Appends metrics as JSON lines. The file is opened for appending, so a resumed run adds to
/// it; lines of steps after the last checkpoint of an interrupted run appear again after the
/// resume, each line carries its step.
final class MetricsLog {
    static let fileName = "metrics.jsonl"
    private let handle: FileHandle
    private let url: URL
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw TrainingError.checkpoint(file: url.path, reason: "cannot open for appending: \(error.localizedDescription)")
        }
        do { try handle.seekToEnd() } catch {
            throw TrainingError.checkpoint(
                file: url.path, reason: "cannot open for appending: \(error.localizedDescription)")
        }
        self.url = url
    }

    deinit { try? handle.close() }

    func append(_ metrics: StepMetrics) throws {
        var line = try encoder.encode(metrics)
        line.append(0x0A)
        // The throwing write: the old `write(_:)` traps on a failed write (a full disk).
        do {
            if let code = FaultPoint.write.reached() { throw POSIXError(POSIXErrorCode(rawValue: code)!) }
            try handle.write(contentsOf: line)
        } catch {
            throw TrainingError.checkpoint(
                file: url.path, reason: "cannot append a line: \(error.localizedDescription)")
        }
    }
}
