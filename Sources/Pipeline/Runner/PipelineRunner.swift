import AtomicFiles
import Foundation
import ImageIO

/// Runs the preparation pipeline over folders: walks and pairs the inputs, feeds a bounded
/// queue to `jobs` threads that decode, prepare and encode each sample, and hands finished
/// samples to one committer thread (`SampleCommitter`) that writes their files under temporary
/// names, flushes them in batches, renames them and journals them for resumption; then writes
/// the report.
///
/// Memory: the walk holds one folder listing per level, the job queue `4 × jobs` paths and the
/// committer's queue at most 512 finished samples' encoded files (about 7 MB at DeepFashion's
/// size; `2 × jobs` samples when not durable); each
/// thread holds one decoded sample; the journal of finished stems is a set of short strings
/// (about 100 bytes per sample: 5 MB for DeepFashion's 52,712). No pixel buffer outlives its
/// sample.
public final class PipelineRunner: @unchecked Sendable {
    public let configuration: PipelineConfiguration
    /// The file's values before command-line overrides, for marking changes in `pipeline.yaml`.
    public let baseline: PipelineConfiguration?
    public let options: RunOptions
    /// Called with each kept sample and the bytes of its photo file as written (nil when the
    /// prepared set is not written), from worker threads, concurrently: the hook for
    /// statistics. Must be thread-safe. The file itself may not be written yet: the committer
    /// writes and renames it moments later.
    public var observer: (@Sendable (_ sample: PreparedSample, _ storedPhoto: [UInt8]?) -> Void)?
    /// Called once with the finished report, before it is written: the hook that adds the
    /// statistics gathered by `observer`. A throw fails the run with `writeFailed`.
    public var completeReport: ((inout RunReport) throws -> Void)?
    /// Called after every sample, serialised.
    public var progress: (@Sendable (RunProgress) -> Void)?
    /// File formats; ImageIO unless a test substitutes its own.
    public var codecs: SampleCodecs = .imageIO

    private let lock = NSLock()
    private let progressLock = NSLock()
    private var cancelled = false
    private var firstFatalError: Error?
    private var state = RunProgress(total: 0, resumed: 0, processed: 0, kept: 0, dropped: 0, elapsed: 0, finished: false)
    private var started = Date()
    private var activeQueue: BoundedQueue<Job>?
    /// The journal's samples (those of earlier runs, then this run's as they are committed),
    /// tallied as they come instead of reading the whole journal again for the report.
    private var journaled = JournalTally()
    /// Output folders whose renames are synced once per journal batch rather than per file.
    let outputFolderSyncs = FolderSyncBatch()
    /// The extensions the photo walk takes (fewer when photos and label maps share a folder).
    private var photoFileExtensions = photoExtensions
    /// Samples dropped because a file could not be read (permissions, an I/O error): in the
    /// report, but not journaled, so that a re-run tries them again.
    private var unjournaledDrops: [DroppedSample] = []

    public init(configuration: PipelineConfiguration, baseline: PipelineConfiguration? = nil, options: RunOptions = RunOptions()) {
        self.configuration = configuration
        self.baseline = baseline
        self.options = options
    }

    /// Asks the run to stop after the samples in flight (safe from a signal-watching thread).
    public func cancel() {
        lock.lock()
        cancelled = true
        let queue = activeQueue
        lock.unlock()
        queue?.close(discardingPending: true)
    }

    /// Hands a snapshot to the progress callback, one call at a time and outside the state
    /// lock, so the callback may call `cancel()`. Snapshots are taken in order under the
    /// state lock, but two threads may deliver theirs in swapped order; `finished` comes last.
    private func deliver(_ snapshot: RunProgress) {
        guard let progress else { return }
        progressLock.lock()
        progress(snapshot)
        progressLock.unlock()
    }

    /// Records the first error that makes going on pointless (a full disk) and stops the run.
    private func fail(_ error: Error) {
        lock.lock()
        if firstFatalError == nil { firstFatalError = error }
        let queue = activeQueue
        lock.unlock()
        queue?.close(discardingPending: true)
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled || firstFatalError != nil
    }

    /// A paired sample on its way to a worker.
    private struct Job: Sendable {
        let stem: String
        let photo: String
        let label: String
    }

    /// Runs the pipeline. Returns the report of this slice (also written to the output folder).
    /// - Throws: `PipelineRunError` when the run cannot start, when writing fails, or when
    ///   cancelled (after flushing the journal, so a re-run resumes).
    public func run() throws -> RunReport {
        guard let images = configuration.images else { throw PipelineRunError.missingSetting("images") }
        guard let labels = configuration.labels else { throw PipelineRunError.missingSetting("labels") }
        guard let output = configuration.output else { throw PipelineRunError.missingSetting("output") }
        for (key, path) in [("images", images), ("labels", labels)] where !isFolder(path) {
            throw PipelineRunError.notAFolder(key: key, path: path)
        }
        if FileManager.default.fileExists(atPath: output), !isFolder(output) {
            throw PipelineRunError.notAFolder(key: "output", path: output)
        }
        for (key, input) in [("images", images), ("labels", labels)] where Self.isInside(output, input) {
            throw PipelineRunError.outputInsideInput(output: output, key: key, input: input)
        }
        let partitionList = try loadPartitionList()
        let preparation = SamplePreparation(configuration: configuration, partitionList: partitionList)
        let outputLock = try OutputFolderLock(output: output, slice: options.worker)
        defer { outputLock.release() }
        let journalPath = try prepareOutputFolder(output)
        var finished = Set<String>()
        var earlier = JournalTally()
        try RunJournal.read(path: journalPath) { entry in
            finished.insert(entry.stem)
            earlier.add(entry)
        }
        lock.lock()
        journaled = earlier
        lock.unlock()
        let journal = try RunJournal(path: journalPath, folderSyncs: options.durable ? outputFolderSyncs : nil)

        // Photos and label maps in one folder (a parser's output beside its inputs): a label
        // map's extension then means a label map, never a photo of the same stem.
        let sameFolder = Self.resolved(images) == Self.resolved(labels)
        photoFileExtensions = sameFolder ? photoExtensions.subtracting(labelExtensions) : photoExtensions
        state.total = progress == nil ? 0 : countPhotos(in: images)
        state.resumed = finished.count
        started = Date()

        // Room for a few jobs per worker: the walk refills it when it has drained to half, not
        // after every job.
        let queue = BoundedQueue<Job>(capacity: 4 * options.jobs)
        lock.lock()
        activeQueue = queue
        lock.unlock()
        defer {
            lock.lock()
            activeQueue = nil
            lock.unlock()
        }
        // Durable runs flush in batches: room for a few seconds of samples, so that workers
        // never wait for a flush. Otherwise a commit is a rename, and a short queue keeps
        // the samples finished after a Ctrl-C few.
        let durable = options.durable, folderSyncs = outputFolderSyncs
        let committer = SampleCommitter(
            journal: journal, capacity: durable ? 512 : 2 * options.jobs,
            openFile: {
                let options = AtomicWriteOptions(durable: durable, createFolders: true, folderSyncs: folderSyncs)
                return try AtomicFileWriter(path: output + "/" + $0, options: options)
            },
            batched: durable, committed: { [self] in committed($0) }, failed: { [self] in fail($0) })
        let group = DispatchGroup()
        for index in 0..<options.jobs {
            let thread = Thread { [self] in
                let scratch = ResizeScratch()
                while let job = queue.pop(), !isCancelled {
                    process(job, preparation: preparation, committer: committer, output: output, scratch: scratch)
                }
                group.leave()
            }
            thread.name = "pipeline-\(index)"
            thread.stackSize = 1 << 20
            group.enter()
            thread.start()
        }

        var report = RunReport(worker: options.worker.index, workers: options.worker.count)
        var photoWalker = SortedFileWalker(root: images, extensions: photoFileExtensions, slice: options.worker)
        var labelWalker = SortedFileWalker(root: labels, extensions: labelExtensions, slice: options.worker)
        var pairing = SamplePairing(photos: AnyIterator { photoWalker.next() }, labels: AnyIterator { labelWalker.next() })
        while let event = pairing.next() {  // only this worker's slice: the walkers skip the rest
            if isCancelled { break }
            switch event {
            case .paired(let stem, let photo, let label):
                report.photosFound += 1
                report.labelsFound += 1
                report.pairs += 1
                if !finished.contains(stem) && !queue.push(Job(stem: stem, photo: photo, label: label)) { break }
            case .photoWithoutLabel(let stem, let photo):
                report.photosFound += 1
                report.addDropped(DroppedSample(stem: stem, photo: photo, label: nil, reason: .photoWithoutLabel))
            case .labelWithoutPhoto(let stem, let label):
                report.labelsFound += 1
                report.addDropped(DroppedSample(stem: stem, photo: nil, label: label, reason: .labelWithoutPhoto))
            case .duplicateStem(let stem, let path):
                report.addDropped(DroppedSample(stem: stem, photo: path, label: nil, reason: .duplicateStem))
            }
        }
        queue.close(discardingPending: isCancelled)
        group.wait()
        committer.finish()  // samples finished before a Ctrl-C are still committed and journaled
        // In one folder each walk ignores the other's files; count only what neither takes.
        report.ignoredFiles = sameFolder
            ? max(0, labelWalker.ignoredFiles - photoWalker.yieldedFiles - photoWalker.otherSlicesFiles)
            : photoWalker.ignoredFiles + labelWalker.ignoredFiles
        report.unreadableFolders = (photoWalker.unreadableFolders + labelWalker.unreadableFolders).map { "\($0.path): \($0.message)" }

        try journal.flush()
        lock.lock()
        let fatal = firstFatalError
        let wasCancelled = cancelled
        state.finished = true
        state.elapsed = Date().timeIntervalSince(started)
        let finalState = state
        lock.unlock()
        deliver(finalState)
        if let fatal { throw fatal as? PipelineRunError ?? .writeFailed(String(describing: fatal)) }
        if wasCancelled { throw PipelineRunError.cancelled(processed: finalState.processed) }

        report.resumed = finished.count
        report.processedThisRun = finalState.processed
        lock.lock()
        let tally = journaled
        let retried = unjournaledDrops
        lock.unlock()
        tally.apply(to: &report)
        for sample in retried { report.addDropped(sample) }
        report.sortDroppedSamples()
        do { try completeReport?(&report) } catch { throw PipelineRunError.writeFailed(String(describing: error)) }
        try writeReport(report, to: output)
        return report
    }

    // MARK: One sample

    private func process(_ job: Job, preparation: SamplePreparation, committer: SampleCommitter, output: String, scratch: ResizeScratch) {
        let images = configuration.images!, labels = configuration.labels!
        var entry = JournalEntry(stem: job.stem, photo: job.photo, label: job.label, split: nil, dropped: nil)
        var files: [SampleCommitter.PendingFile] = []
        do {
            if let reason = try decodeAndPrepare(
                job, images: images, labels: labels, preparation: preparation, scratch: scratch, files: &files) {
                entry.dropped = reason
            } else {
                entry.split = preparation.partitioner.split(forStem: job.stem)
            }
        } catch let failure as UnreadableInput {
            droppedWithoutJournal(DroppedSample(stem: job.stem, photo: job.photo, label: job.label, reason: failure.reason))
            return
        } catch {
            fail(error)
            return
        }
        committer.submit(SampleCommitter.Item(entry: entry, files: files))
    }

    /// A file that could not be read, as opposed to one that does not decode: the reason
    /// for the report, thrown so that the sample is not journaled as done.
    private struct UnreadableInput: Error {
        let reason: DropReason
    }

    /// Counts a sample dropped for an unreadable file, which the journal does not record.
    private func droppedWithoutJournal(_ sample: DroppedSample) {
        lock.lock()
        unjournaledDrops.append(sample)
        state.processed += 1
        state.dropped += 1
        state.elapsed = Date().timeIntervalSince(started)
        let snapshot = state
        lock.unlock()
        deliver(snapshot)
    }

    /// Counts a sample the committer has journaled and reports progress.
    private func committed(_ entry: JournalEntry) {
        lock.lock()
        journaled.add(entry)
        state.processed += 1
        if entry.split != nil { state.kept += 1 } else { state.dropped += 1 }
        state.elapsed = Date().timeIntervalSince(started)
        let snapshot = state
        lock.unlock()
        deliver(snapshot)
    }

    /// Nil when the sample was kept and its files encoded (appended to `files` for the
    /// committer); the drop reason otherwise. An encoding failure is thrown, not a drop, as
    /// write failures are on the committer: the sample must be redone.
    private func decodeAndPrepare(
        _ job: Job, images: String, labels: String, preparation: SamplePreparation, scratch: ResizeScratch,
        files: inout [SampleCommitter.PendingFile]
    ) throws -> DropReason? {
        // Partition first: a photo missing from the list is dropped without decoding it.
        guard preparation.partitioner.split(forStem: job.stem) != nil else { return .notInPartitionList }
        let photo: PhotoInput
        let label: LabelInput
        do { photo = try codecs.openPhoto(images + "/" + job.photo) } catch {
            try Self.throwIfUnreadable(error, file: job.photo)
            return .undecodable(file: job.photo, message: Self.message(of: error))
        }
        do { label = try codecs.readLabel(labels + "/" + job.label) } catch {
            try Self.throwIfUnreadable(error, file: job.label)
            // A broken photo is named first, as the stages' order says, even when its label is broken too.
            do { try photo.checkDecodes() } catch { return .undecodable(file: job.photo, message: Self.message(of: error)) }
            return .undecodable(file: job.label, message: Self.message(of: error))
        }
        let outcome: SamplePreparation.Outcome
        do { outcome = try preparation.prepare(stem: job.stem, photo: photo, label: label, scratch: scratch) } catch {
            return .undecodable(file: job.photo, message: Self.message(of: error))
        }
        switch outcome {
        case .dropped(let reason):
            return reason
        case .kept(let sample):
            let storedPhoto = try encode(sample, into: &files)
            observer?(sample, storedPhoto)
            return nil
        }
    }

    private static func throwIfUnreadable(_ error: Error, file: String) throws {
        if let error = error as? ImageIOError, case .unreadable = error.reason {
            throw UnreadableInput(reason: .undecodable(file: file, message: message(of: error) + " (not journaled: a re-run tries it again)"))
        }
    }

    private static func message(of error: Error) -> String {
        if let error = error as? ImageIOError {
            // The path is already in the report entry; keep only the reason.
            let text = error.description
            return text.hasPrefix(error.source + ": ") ? String(text.dropFirst(error.source.count + 2)) : text
        }
        return String(describing: error)
    }

    /// Encodes the sample's files (paths relative to the output folder) for the committer, which
    /// writes them, makes them durable and renames them into place. Returns the photo file's
    /// bytes (nil when not written).
    private func encode(_ sample: PreparedSample, into files: inout [SampleCommitter.PendingFile]) throws -> [UInt8]? {
        func stage(_ bytes: [UInt8], _ path: String) {
            files.append(SampleCommitter.PendingFile(path: path, bytes: bytes))
        }
        var photoBytes: [UInt8]?
        if configuration.outputs.prepared {
            let bytes = try codecs.encodePhoto(sample.photo, configuration.outputs.photoQuality)
            stage(bytes, PreparedLayout.photoPath(flatStem: sample.flatStem, split: sample.split))
            stage(try codecs.encodeLabel(sample.label, options.labelCompressionLevel),
                      PreparedLayout.labelPath(flatStem: sample.flatStem, split: sample.split))
            photoBytes = bytes
        }
        if configuration.outputs.split {
            for part in sample.parts where part.pixelCount > 0 {
                guard let crop = ClassSplit.maskedCrop(photo: sample.photo, label: sample.label, part: part) else { continue }
                let name = configuration.classMapping.names[part.classID]
                stage(try codecs.encodeCrop(crop),
                          PreparedLayout.splitPartPath(flatStem: sample.flatStem, classID: part.classID, className: name))
            }
        }
        return photoBytes
    }

    // MARK: Set-up and report

    /// Deletes temporaries whose writer died (`AtomicFileWriter.isAbandonedTemporary`) in the
    /// data folders, and in `split/`'s per-sample folders.
    static func removeAbandonedTemporaries(in output: String, dataFolders: [String]) {
        for folder in dataFolders { AtomicFileWriter.removeAbandonedTemporaries(in: output + "/" + folder) }
        let split = output + "/split"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: split)) ?? [] where !name.hasPrefix(".") {
            AtomicFileWriter.removeAbandonedTemporaries(in: split + "/" + name)
        }
    }

    private func loadPartitionList() throws -> EvalPartitionList? {
        guard let path = configuration.partition.list else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineRunError.partitionList("\(path): \(error.localizedDescription)")
        }
        do { return try EvalPartitionList(parsing: text, file: path) } catch {
            throw PipelineRunError.partitionList(String(describing: error))
        }
    }

    /// Creates the output folder, checks that an earlier unfinished run in it used the same
    /// configuration and worker count, writes `pipeline.yaml` and `classes.json`, and returns
    /// this worker's journal path. Temporaries abandoned by a killed run are deleted.
    private func prepareOutputFolder(_ output: String) throws -> String {
        let manager = FileManager.default
        let stateFolder = output + "/" + PreparedLayout.stateFolder
        let dataFolders = ["train", "test", "cihp_train_mask", "cihp_test_mask", "split"]
        do {
            if options.restart {  // the report too: it would describe samples no longer there
                for item in dataFolders + [PreparedLayout.stateFolder, PreparedLayout.report, PreparedLayout.summary] {
                    try? manager.removeItem(atPath: output + "/" + item)
                }
            }
            Self.removeAbandonedTemporaries(in: output, dataFolders: dataFolders)
            try manager.createDirectory(atPath: stateFolder, withIntermediateDirectories: true)
        } catch {
            throw PipelineRunError.writeFailed("\(output): \(error.localizedDescription)")
        }
        let slice = options.worker
        let journalName = "journal-\(slice.index)-of-\(slice.count).jsonl"
        let others = ((try? manager.contentsOfDirectory(atPath: stateFolder)) ?? [])
            .filter { $0.hasPrefix("journal-") && !$0.hasSuffix("-of-\(slice.count).jsonl") }
        if let other = others.first { throw PipelineRunError.otherWorkerCount(output: output, found: other) }

        let fingerprintPath = stateFolder + "/configuration.yaml"
        let fingerprint = Self.withResolvedPaths(configuration).preparationFingerprint
        if let existing = try? String(contentsOfFile: fingerprintPath, encoding: .utf8), existing != fingerprint,
           existing != Self.fingerprintBeforeResolvedPaths(configuration) {
            let before = Set(existing.split(separator: "\n"))
            let differences = fingerprint.split(separator: "\n").filter { !before.contains($0) }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            throw PipelineRunError.configurationChanged(output: output, differences: differences)
        }
        do {
            try AtomicFileWriter.write(fingerprint.utf8, to: fingerprintPath)
            let effective = configuration.renderedYAML(baseline: baseline, sourcePath: configuration.sourceFile)
            try AtomicFileWriter.write(effective.utf8, to: output + "/" + PreparedLayout.pipeline)
            let classes = try Self.classesJSON(configuration.classMapping.names)
            try AtomicFileWriter.write(classes.utf8, to: output + "/" + PreparedLayout.classes)
        } catch {
            throw PipelineRunError.writeFailed(String(describing: error))
        }
        return stateFolder + "/" + journalName
    }

    /// The fingerprint as versions before 2026-12-04 wrote it (paths as given, the source as
    /// named), so that their unfinished runs still resume; the folder then gets the new one.
    static func fingerprintBeforeResolvedPaths(_ configuration: PipelineConfiguration) -> String {
        var preparation = configuration
        preparation.outputs.shards = nil
        return preparation.renderedYAML()
    }

    /// `{"classes": ["hair", "face", …]}`, each name escaped as JSON needs (a quote or a
    /// backslash in a class name once made the file unreadable).
    static func classesJSON(_ names: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let quoted = try names.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return "{\"classes\": [" + quoted.joined(separator: ", ") + "]}\n"
    }

    /// The configuration with its folders and lists as absolute, resolved paths, so that
    /// `img`, `img/` and `/data/img` resume the same run.
    static func withResolvedPaths(_ configuration: PipelineConfiguration) -> PipelineConfiguration {
        var resolvedConfiguration = configuration
        resolvedConfiguration.images = configuration.images.map(resolved)
        resolvedConfiguration.labels = configuration.labels.map(resolved)
        resolvedConfiguration.output = configuration.output.map(resolved)
        resolvedConfiguration.partition.list = configuration.partition.list.map(resolved)
        return resolvedConfiguration
    }

    /// `path` absolute, without `.`, `..`, repeated or trailing slashes, symbolic links resolved.
    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Whether `path` is `folder` or lies inside it (after resolving both).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        let inner = resolved(path), outer = resolved(folder)
        return inner == outer || inner.hasPrefix(outer == "/" ? "/" : outer + "/")
    }

    private func writeReport(_ report: RunReport, to output: String) throws {
        let slice = options.worker
        do {
            if slice.count == 1 {
                try report.writeReportAndSummary(in: output)
            } else {
                let name = "report-worker-\(slice.index)-of-\(slice.count).json"
                try AtomicFileWriter.write(try report.encodedJSON(), to: output + "/" + name)
            }
        } catch {
            throw PipelineRunError.writeFailed(String(describing: error))
        }
    }

    private func countPhotos(in images: String) -> Int {
        var walker = SortedFileWalker(root: images, extensions: photoFileExtensions, slice: options.worker)
        var count = 0
        while walker.next() != nil { count += 1 }
        return count
    }

    private func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// What a run journal holds, as the report needs it: kept samples counted per side, dropped
/// ones listed in journal order.
struct JournalTally {
    private var train = 0
    private var validation = 0
    private var dropped: [DroppedSample] = []

    mutating func add(_ entry: JournalEntry) {
        if let split = entry.split {
            if split == .train { train += 1 } else { validation += 1 }
        } else if let reason = entry.dropped {
            dropped.append(DroppedSample(stem: entry.stem, photo: entry.photo, label: entry.label, reason: reason))
        }
    }

    /// Adds the tallied samples to `report`, as reading the journal line by line would.
    func apply(to report: inout RunReport) {
        for _ in 0..<train { report.addKept(.train) }
        for _ in 0..<validation { report.addKept(.validation) }
        for sample in dropped { report.addDropped(sample) }
    }
}
