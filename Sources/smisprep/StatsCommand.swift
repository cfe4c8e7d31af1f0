import ArgumentParser
import Foundation
import ImageIO
import Pipeline
import Records
import Statistics

/// `smisprep stats PATH`: figures a user checks before training on a data set.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show a data set's statistics: classes, areas, co-occurrence, filter candidates, photos.",
        discussion: """
            PATH is a parser's raw output (needs --source), a prepared folder (train/, \
            cihp_train_mask/, test/, cihp_test_mask/), or a shard set (manifest.json, whose stored \
            statistics are shown at once unless --recompute is given). Unreadable files are listed \
            on standard error and skipped.
            """)

    @Argument(help: "The data set folder: raw parser output, a prepared folder, or a shard set.")
    var path: String

    @Option(help: "Source label set of raw parser output: lip, cihp, atr, or a YAML file.")
    var source: String?

    @Option(help: "Folder holding the source label sets that --source names.")
    var sourcesDir = "Pipelines/sources"

    @Flag(help: "Print the statistics as JSON (schema in Sources/Statistics/README.md) instead of tables.")
    var json = false

    @Option(help: "Write an HTML report with charts and a contact sheet into this folder.")
    var report: String?

    @Option(help: "Number of samples on the report's contact sheet.")
    var contactSheetSamples = 6

    @Flag(help: "Scan a shard set's records instead of reading the statistics stored in its manifest.")
    var recompute = false

    @Option(help: "Threads that decode and accumulate samples.")
    var threads = 2

    func validate() throws {
        guard (1...maximumJobs).contains(threads) else {
            throw ValidationError("--threads must be between 1 and \(maximumJobs), got \(threads).")
        }
        guard contactSheetSamples >= 0 else {
            throw ValidationError("--contact-sheet-samples must not be negative, got \(contactSheetSamples).")
        }
    }

    func run() throws {
        let gathered = try gather()
        for note in gathered.notes { StandardError.print(note) }
        if let report {
            let written = try StatisticsReport.write(
                gathered.statistics, labelSet: gathered.labelSet, samples: gathered.contactSheet, to: report)
            StandardError.print("stats: wrote \(written.count) files, open \(written[0])")
        }
        if json {
            print(String(decoding: try gathered.statistics.encodedJSON(), as: UTF8.self))
        } else {
            print(gathered.statistics.terminalTable(), terminator: "")
        }
    }

    /// Statistics from the manifest, or from a scan of the folder's samples.
    private func gather() throws -> StatsGathered {
        switch try DatasetListing.detectLayout(of: path) {
        case .shards(let manifest):
            var gathered: StatsGathered
            if recompute {
                gathered = try recomputeFromShards(manifest: manifest)
            } else {
                let statistics = try DatasetStatistics.fromManifest(at: manifest)
                let names = Dictionary(uniqueKeysWithValues: statistics.classes.map { ($0.id, $0.name) })
                let labelSet = statistics.labelSet == .source
                    ? LabelSet(source: "", classes: names) : LabelSet(targetClasses: statistics.classes.map(\.name))
                gathered = StatsGathered(statistics: statistics, labelSet: labelSet, contactSheet: [], notes: [])
            }
            if report != nil { gathered.contactSheet = try shardContactSheet(manifest: manifest) }
            return gathered
        case .prepared:
            guard source == nil else {
                throw ValidationError(
                    "\(path) is a prepared folder (target classes); --source is for raw parser output.")
            }
            let listing = try DatasetListing.prepared(at: path)
            let classNames = listing.classNames ?? DatasetListing.defaultTargetClasses
            return scan(listing, accumulator: StatisticsAccumulator(classNames: classNames))
        case .raw:
            guard let source else {
                throw ValidationError(
                    "\(path) looks like raw parser output: name its label set with --source lip|cihp|atr.")
            }
            let labelSet = try sourceLabelSet(source)
            return scan(DatasetListing.raw(at: path), accumulator: StatisticsAccumulator(labelSet: labelSet))
        }
    }

    /// `--source`: a label-set file, or a name looked up as `<--sources-dir>/<name>.yaml`, read
    /// by the pipeline's own label-set reader (errors name the file and line).
    private func sourceLabelSet(_ source: String) throws -> LabelSet {
        // A name is looked up in --sources-dir, then in the bundled Pipelines/sources.
        let bundled = LabelSet.isPath(source)
            ? [] : BundledPipelines.folders.map { $0.appendingPathComponent("sources") }
        let files = ([URL(fileURLWithPath: sourcesDir)] + bundled).map {
            LabelSet.sourceFile(for: source, sourcesFolder: $0)
        }
        let resolved = files.first { FileManager.default.fileExists(atPath: $0) } ?? files[0]
        do { return try LabelSet(contentsOfFile: resolved) } catch let error as PipelineFileError {
            throw PipelineCommandError(message: error.description)
        }
    }

    /// `--recompute`: reads every record of the shard set in order with the Records reader
    /// (CRC checked), decodes photo and label, and accumulates them. A damaged record is listed
    /// on standard error and skipped; the scan goes on.
    /// `--contact-sheet-samples` records spread evenly over the set, decoded (damaged ones left out).
    private func shardContactSheet(manifest: String) throws -> [ContactSheetSample] {
        let set = try ShardSet(directory: URL(fileURLWithPath: manifest).deletingLastPathComponent())
        return StatisticsReport.spreadIndices(contactSheetSamples, over: set.count).compactMap { global in
            guard let view = try? set.segmentationRecord(at: global), let (photo, label) = try? view.decoded() else {
                return nil
            }
            return ContactSheetSample(key: view.key, label: label, photo: photo)
        }
    }

    private func recomputeFromShards(manifest: String) throws -> StatsGathered {
        let folder = URL(fileURLWithPath: manifest).deletingLastPathComponent()
        var notes: [String] = []
        let set = try ShardSet(directory: folder)
        let accumulator = ShardStage.scanStatistics(of: set) { notes.append("stats: skipped \($0)") }
        if !notes.isEmpty { notes.append("stats: \(notes.count) records skipped (listed above)") }
        return StatsGathered(
            statistics: accumulator.finish(), labelSet: accumulator.labelSet, contactSheet: [], notes: notes)
    }

    private func scan(_ listing: DatasetListing, accumulator: StatisticsAccumulator) -> StatsGathered {
        let total = listing.samples.count
        let showProgress = isatty(STDERR_FILENO) != 0
        let result = StatisticsScan.run(listing.samples, into: accumulator, threads: threads) { done in
            if showProgress { StandardError.write("\rstats: \(done) of \(total) samples") }
        }
        if showProgress && total >= 500 { StandardError.write("\r\u{1B}[K") }
        var notes: [String] = []
        for photo in listing.photosWithoutLabel { notes.append("stats: photo without a label map, ignored: \(photo)") }
        for label in listing.labelsWithoutPhoto {
            notes.append("stats: label map without a photo, counted alone: \(label)")
        }
        for skipped in result.skipped { notes.append("stats: skipped \(skipped)") }
        if listing.samples.isEmpty { notes.append("stats: no label maps found under \(path)") }
        if !result.skipped.isEmpty {
            notes.append("stats: \(result.skipped.count) files skipped or ignored (listed above)")
        }
        let contactSheet = report == nil ? [] : StatisticsReport.loadContactSheet(
            from: listing.samples, count: contactSheetSamples)
        return StatsGathered(
            statistics: result.accumulator.finish(), labelSet: accumulator.labelSet, contactSheet: contactSheet,
            notes: notes)
    }
}

private struct StatsGathered {
    var statistics: DatasetStatistics
    var labelSet: LabelSet
    var contactSheet: [ContactSheetSample]
    var notes: [String]
}
