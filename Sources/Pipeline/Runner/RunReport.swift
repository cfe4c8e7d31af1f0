import AtomicFiles
import Foundation
import Statistics

/// A dropped sample with its typed reason, as `report.json` lists it: the pipeline's form of a
/// `SkippedSample`, whose reason is plain text, kept apart for the report's published fields
/// (`reason` key, `explanation`, the typed `detail`).
public struct DroppedSample: Codable, Equatable, Sendable {
    public var stem: String
    public var photo: String?
    public var label: String?
    /// Short reason key, e.g. `size-mismatch`.
    public var reason: String
    /// One readable sentence.
    public var explanation: String
    /// The typed reason with its numbers.
    public var detail: DropReason

    public init(stem: String, photo: String?, label: String?, reason: DropReason) {
        self.stem = stem
        self.photo = photo
        self.label = label
        self.reason = reason.key
        self.explanation = reason.explanation
        self.detail = reason
    }
}

/// What a run did: counts in and out and every dropped sample with its reason.
/// Written as `report.json` (or `report-worker-I-of-N.json` for a worker slice).
public struct RunReport: Codable, Equatable, Sendable {
    public var formatVersion = 1
    /// This slice: worker index and count (0 of 1 for a whole run).
    public var worker: Int
    public var workers: Int
    /// Photo and label files met by the walk, in this slice.
    public var photosFound = 0
    public var labelsFound = 0
    /// Photo–label pairs in this slice.
    public var pairs = 0
    /// Files under the input folders skipped for their extension (whole tree, not per slice).
    public var ignoredFiles = 0
    /// How the inputs are named when by suffix (`*_leftImg8bit.png`, `*_gtFine_labelIds.png`):
    /// files skipped are then those not named so, images or not. Nil (and absent from the
    /// JSON) for inputs told apart by extension.
    public var inputNames: [String]?
    /// Folders under the inputs that could not be listed, with the system's message; their
    /// files are missing from every count.
    public var unreadableFolders: [String] = []
    public var kept = 0
    public var train = 0
    public var validation = 0
    public var dropped = 0
    /// Dropped samples by reason key.
    public var droppedByReason: [String: Int] = [:]
    /// Filtered samples by source class.
    public var filteredByClass: [String: Int] = [:]
    /// Samples finished by earlier runs into the same folder and not redone.
    public var resumed = 0
    /// Samples processed by this run.
    public var processedThisRun = 0
    /// Every dropped sample, in stem order for unpaired files then in finishing order.
    public var droppedSamples: [DroppedSample] = []
    /// Statistics of the kept samples as written (schema in Sources/Statistics/README.md), set
    /// by the front end through `PipelineRunner.completeReport`; nil when nothing computed them
    /// (a worker slice that resumed; `merged` leaves it to the caller).
    public var statistics: DatasetStatistics?

    public init(worker: Int, workers: Int) {
        self.worker = worker
        self.workers = workers
    }

    /// Adds one dropped sample to the counts and the list.
    public mutating func addDropped(_ sample: DroppedSample) {
        dropped += 1
        droppedByReason[sample.reason, default: 0] += 1
        if case .filtered(let sourceClass, _, _) = sample.detail { filteredByClass[sourceClass, default: 0] += 1 }
        droppedSamples.append(sample)
    }

    /// Puts the dropped samples in stem order (byte order; equal stems keep their order), so
    /// that the report does not depend on which thread finished which sample first.
    public mutating func sortDroppedSamples() {
        droppedSamples = droppedSamples.enumerated().sorted { a, b in
            a.element.stem == b.element.stem
                ? a.offset < b.offset : a.element.stem.utf8.lexicographicallyPrecedes(b.element.stem.utf8)
        }.map(\.element)
    }

    /// Adds a kept sample to the counts.
    public mutating func addKept(_ split: DataSplit) {
        kept += 1
        if split == .train { train += 1 } else { validation += 1 }
    }

    /// Adds a journaled sample: kept on its side, or dropped with its reason.
    mutating func add(_ entry: JournalEntry) {
        if let split = entry.split {
            addKept(split)
        } else if let reason = entry.dropped {
            addDropped(DroppedSample(stem: entry.stem, photo: entry.photo, label: entry.label, reason: reason))
        }
    }

    /// Adds the counts and dropped samples of another part of the same run or set (a worker
    /// slice, or the outcomes of the samples a walk paired). Files ignored under the inputs
    /// were counted over the whole tree, so the larger count stays; unreadable folders are
    /// taken from the first part that has any.
    public mutating func add(_ other: RunReport) {
        photosFound += other.photosFound
        labelsFound += other.labelsFound
        pairs += other.pairs
        ignoredFiles = max(ignoredFiles, other.ignoredFiles)
        inputNames = inputNames ?? other.inputNames
        if unreadableFolders.isEmpty { unreadableFolders = other.unreadableFolders }
        kept += other.kept
        train += other.train
        validation += other.validation
        resumed += other.resumed
        processedThisRun += other.processedThisRun
        for sample in other.droppedSamples { addDropped(sample) }
    }

    /// Joins worker reports of one run (any order) into the report of the whole run.
    public static func merged(_ reports: [RunReport]) -> RunReport {
        var total = RunReport(worker: 0, workers: 1)
        for report in reports.sorted(by: { $0.worker < $1.worker }) { total.add(report) }
        total.sortDroppedSamples()
        return total
    }

    /// A few readable lines: counts in and out, drops by reason, the first drops by name.
    public func summary(listing limit: Int = 20) -> String {
        var lines: [String] = []
        lines.append("photos \(photosFound), label maps \(labelsFound), pairs \(pairs)")
        lines.append("kept \(kept) (train \(train), validation \(validation)), dropped \(dropped)")
        if resumed > 0 { lines.append("resumed: \(resumed) samples were finished by an earlier run") }
        if ignoredFiles > 0, let inputNames {
            lines.append("ignored \(ignoredFiles) other files (inputs are named \(inputNames.joined(separator: ", ")))")
        } else if ignoredFiles > 0 {
            lines.append("ignored \(ignoredFiles) files that are not images")
        }
        for folder in unreadableFolders { lines.append("could not list \(folder)") }
        for key in droppedByReason.keys.sorted() {
            var line = "  \(key): \(droppedByReason[key]!)"
            if key == "filtered" {
                let byClass = filteredByClass.keys.sorted().map { "\($0) \(filteredByClass[$0]!)" }
                line += " (" + byClass.joined(separator: ", ") + ")"
            }
            lines.append(line)
        }
        for sample in droppedSamples.prefix(limit) {
            lines.append("  - \(sample.stem): \(sample.explanation)")
        }
        if droppedSamples.count > limit {
            lines.append("  … and \(droppedSamples.count - limit) more in \(PreparedLayout.report)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the report of a whole run (or of joined worker slices) into its output folder:
    /// `report.json` and the readable `summary.txt`.
    /// - Throws: `AtomicFileError` naming the file.
    func writeReportAndSummary(in folder: String) throws {
        try AtomicFileWriter.write(try encodedJSON(), to: folder + "/" + PreparedLayout.report)
        try AtomicFileWriter.write(summary().utf8, to: folder + "/" + PreparedLayout.summary)
    }

    /// Pretty JSON with sorted keys (stable across runs).
    public func encodedJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }
}
