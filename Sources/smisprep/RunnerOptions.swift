import ArgumentParser
import Foundation
import Pipeline
import Records
import Statistics

/// Options shared by `run` and `deepfashion`: how the run is executed, not what it produces.
struct RunnerOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Worker threads; the default is the number of cores.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        name: .long, parsing: .unconditional,
        help: "Process only slice I of N (0-based), e.g. 3/8; join the slices with `smisprep merge`.")
    var worker = WorkerSlice.whole

    @Flag(name: .long, help: "Forget an unfinished run in the output folder instead of resuming it.")
    var restart = false

    @Flag(name: .long, help: "Print no progress.")
    var quiet = false

    @Flag(name: .long, help: ArgumentHelp(
        "Gather no data-set statistics for report.json (about 6 % faster).",
        discussion: """
            `smisprep stats OUT` computes them later; a shard stage at the end of the run scans the folder for them.
            """))
    var noStatistics = false

    func validate() throws {
        guard (1...maximumJobs).contains(jobs) else {
            throw ValidationError("--jobs must be between 1 and \(maximumJobs).")
        }
    }

    var runOptions: RunOptions {
        RunOptions(jobs: jobs, worker: worker, restart: restart)
    }
}

/// Runs a configured pipeline in the terminal: progress on stderr, Ctrl-C stops cleanly (a
/// second Ctrl-C exits at once), the summary on stdout.
enum TerminalRun {
    static func execute(
        _ configuration: PipelineConfiguration, baseline: PipelineConfiguration?, options: RunnerOptions
    ) throws {
        let runner = PipelineRunner(configuration: configuration, baseline: baseline, options: options.runOptions)
        let renderer = ProgressRenderer(interactive: isatty(STDERR_FILENO) == 1)
        if !options.quiet { runner.progress = { renderer.show($0) } }
        // A worker slice gathers no statistics: `smisprep merge` scans the joined folder anyway,
        // since finished figures (medians, duplicate groups) of slices cannot be added exactly,
        // so a slice would spend about 6 % of its time on figures nobody reads.
        if options.worker.count == 1 && !options.noStatistics {
            RunStatistics(configuration: configuration, skipped: { StandardError.print($0) }).attach(to: runner)
        }

        signal(SIGINT, SIG_IGN)
        let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        var interruptCount = 0
        interrupts.setEventHandler {
            interruptCount += 1
            if interruptCount > 1 { Foundation.exit(130) }
            StandardError.print("\nstopping after the samples in flight (Ctrl-C again to quit now)…")
            runner.cancel()
        }
        interrupts.resume()
        defer { interrupts.cancel() }

        let report: RunReport
        do { report = try runner.run() } catch let error as PipelineRunError {
            if case .cancelled = error {
                StandardError.print("\(error)")
                throw ExitCode(130)
            }
            throw PipelineCommandError(message: error.description)
        }
        let slice = options.worker
        if slice.count > 1 {
            print("""
                worker \(slice): report-worker-\(slice.index)-of-\(slice.count).json written; \
                join the workers with `smisprep merge \(configuration.output!)`
                """)
        }
        print(report.summary(), terminator: "")
        print("prepared set in \(configuration.output!)")
        try writeShards(configuration, report: report, options: options)
    }

    /// The shard stage after a run, when the configuration has `outputs.shards`. A worker slice
    /// writes none: it sees only its part of the set, and the other slices may still be
    /// writing; `smisprep merge` packs the whole folder once they are all done.
    static func writeShards(_ configuration: PipelineConfiguration, report: RunReport, options: RunnerOptions) throws {
        guard let shards = configuration.outputs.shards else { return }
        let slice = options.worker
        guard slice.count == 1 else {
            print("""
                worker \(slice): no shards written (a slice holds part of the set); \
                `smisprep merge \(configuration.output!)` writes them into \(shards.directory)
                """)
            return
        }
        if !options.quiet { StandardError.print("packing the prepared set into shards in \(shards.directory)…") }
        let statistics = try report.statistics.map(ShardStage.manifestStatistics)
            ?? TerminalShardStage.statistics(ofPreparedFolder: configuration.output!, jobs: options.jobs)
        try TerminalShardStage.execute(
            shards, preparedFolder: configuration.output!, statistics: statistics, jobs: options.jobs)
    }
}

/// Draws progress: a bar with rate and ETA on a terminal (redrawn at most ten times a
/// second), plain lines every five seconds otherwise (logs, CI).
final class ProgressRenderer: @unchecked Sendable {
    private let interactive: Bool
    private var lastDraw = Date.distantPast
    /// The first report: the rate is measured from it, so that start-up (walking the folders,
    /// the first decodes) does not make the first ETAs absurd.
    private var first: (processed: Int, elapsed: Double)?

    init(interactive: Bool) { self.interactive = interactive }

    func show(_ progress: RunProgress) {
        if first == nil { first = (progress.processed, progress.elapsed) }
        let now = Date()
        let interval: TimeInterval = interactive ? 0.1 : 5
        guard progress.finished || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let remainingTotal = max(progress.total - progress.resumed, progress.processed)
        let fraction = remainingTotal > 0 ? Double(progress.processed) / Double(remainingTotal) : 1
        let done = progress.processed + progress.resumed
        let counts = "\(done)/\(max(progress.total, done))"
        let speed: String
        if let rate = rate(progress) {
            let eta = Double(remainingTotal - progress.processed) / rate
            speed = String(format: "%.1f samples/s  ETA %@", rate, Self.clock(eta))
        } else {
            speed = "– samples/s  ETA –:––"  // under a second of samples: no rate worth showing yet
        }
        let detail = String(format: "%@  %@  kept %d dropped %d", counts, speed, progress.kept, progress.dropped)
        if interactive {
            let width = 28
            let filled = min(width, Int(fraction * Double(width)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            var line = "\r[\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(detail)\u{1B}[K"
            if progress.finished { line += "\n" }
            StandardError.write(line)
        } else {
            StandardError.print("progress: \(Int(fraction * 100))%  \(detail)")
        }
    }

    /// Samples per second since the first report once a second has passed (the whole run's
    /// rate on the last report); nil before.
    /// Nil too when no sample was processed (a re-run of a finished run resumes them all):
    /// an ETA of 0 / 0 samples per second is no number.
    private func rate(_ progress: RunProgress) -> Double? {
        if progress.finished {
            return progress.elapsed > 0 && progress.processed > 0 ? Double(progress.processed) / progress.elapsed : nil
        }
        guard let first, progress.elapsed - first.elapsed >= 1, progress.processed > first.processed else { return nil }
        return Double(progress.processed - first.processed) / (progress.elapsed - first.elapsed)
    }

    private static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "–:––" }
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// Finds the bundled `Pipelines/` folder: beside the current directory, or above the
/// executable (a build inside the repository).
enum BundledPipelines {
    /// The `Pipelines/` folders to look in, in order (they need not exist).
    static var folders: [URL] {
        let currentFolder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var folders = [currentFolder.appendingPathComponent("Pipelines")]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<6 {
            folders.append(folder.appendingPathComponent("Pipelines"))
            folder = folder.deletingLastPathComponent()
        }
        return folders
    }

    /// The first existing `Pipelines/NAME`.
    static func file(_ name: String) -> String? {
        folders.map { $0.appendingPathComponent(name).path }.first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// Loads a pipeline file, turning its errors into the front end's "Error: …" form.
func loadPipeline(
    _ path: String, overrides: PipelineOverrides
) throws -> (configuration: PipelineConfiguration, baseline: PipelineConfiguration) {
    do {
        let baseline = try PipelineConfiguration(contentsOfFile: path)
        let configuration = try PipelineConfiguration(contentsOfFile: path, overrides: overrides)
        return (configuration, baseline)
    } catch let error as PipelineFileError {
        throw PipelineCommandError(message: error.description)
    }
}
