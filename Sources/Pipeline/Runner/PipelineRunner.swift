import AtomicFiles
import Foundation
import ImageIO

/// Runs the preparation pipeline over folders: walks and pairs the inputs, feeds a bounded
/// queue to `jobs` threads that decode, prepare and encode each sample, and hands finished
/// samples to one committer thread (`SampleCommitter`) that writes their files under temporary
/// names, flushes them in batches, renames them and journals them for resumption; each
/// journaled outcome goes on into the report (`RunOutcomes`), which is written last.
///
/// Memory: the walk holds one folder listing per level, the job queue `4 × jobs` paths and the
/// committer's queue at most 512 finished samples' encoded files (about 7 MB at DeepFashion's
/// size; `2 × jobs` samples when not durable); each thread holds one decoded sample; the
/// journal of finished stems is a set of short strings (about 100 bytes per sample: 5 MB for
/// DeepFashion's 52,712). No pixel buffer outlives its sample.
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
    private var cancelled = false
    private var firstFatalError: Error?
    private var activeQueue: BoundedQueue<Job>?
    /// Output folders whose renames are synced once per journal batch rather than per file.
    let outputFolderSyncs = FolderSyncBatch()

    public init(
        configuration: PipelineConfiguration, baseline: PipelineConfiguration? = nil, options: RunOptions = RunOptions()
    ) {
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

    /// Records the first error that makes going on pointless (a full disk) and stops the run.
    func fail(_ error: Error) {
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

    /// Runs the pipeline. Returns the report of this slice (also written to the output folder).
    /// - Throws: `PipelineRunError` when the run cannot start, when writing fails, or when
    ///   cancelled (after flushing the journal, so a re-run resumes).
    public func run() throws -> RunReport {
        let folders = try checkedFolders()
        let preparation = SamplePreparation(configuration: configuration, partitionList: try loadPartitionList())
        let outputLock = try OutputFolderLock(output: folders.output, slice: options.worker)
        defer { outputLock.release() }
        let journalPath = try prepareOutputFolder(folders.output)
        let (finished, earlier) = try readEarlierRuns(journal: journalPath)
        let journal = try RunJournal(path: journalPath, folderSyncs: options.durable ? outputFolderSyncs : nil)
        let total = progress == nil ? 0 : countPhotos(in: folders)
        let outcomes = RunOutcomes(earlier: earlier, resumed: finished.count, total: total, progress: progress)

        let walked = try prepareSamples(
            in: folders, skipping: finished, preparation: preparation, journal: journal, outcomes: outcomes)
        try journal.flush()
        let (journaled, processed) = outcomes.finish()
        try throwIfStopped(processed: processed)

        var report = walked
        report.resumed = finished.count
        report.processedThisRun = processed
        report.add(journaled)
        report.sortDroppedSamples()
        try complete(&report, output: folders.output)
        return report
    }

    /// A report of this slice with nothing counted yet.
    private func emptyReport() -> RunReport { RunReport(worker: options.worker.index, workers: options.worker.count) }

    /// What earlier runs into this folder journaled: the stems they finished, not to be done
    /// again, and their outcomes as report counts.
    private func readEarlierRuns(journal path: String) throws -> (finished: Set<String>, outcomes: RunReport) {
        var outcomes = emptyReport()
        var finished = Set<String>()
        try RunJournal.read(path: path) { entry in
            finished.insert(entry.stem)
            outcomes.add(entry)
        }
        return (finished, outcomes)
    }

    /// Lets `completeReport` add to the report (the statistics), then writes it.
    private func complete(_ report: inout RunReport, output: String) throws {
        do { try completeReport?(&report) } catch { throw PipelineRunError.writeFailed(String(describing: error)) }
        try writeReport(report, to: output)
    }

    /// The first fatal error (a full disk), or the cancellation, as the run's error.
    private func throwIfStopped(processed: Int) throws {
        lock.lock()
        let fatal = firstFatalError, wasCancelled = cancelled
        lock.unlock()
        if let fatal { throw fatal as? PipelineRunError ?? .writeFailed(String(describing: fatal)) }
        if wasCancelled { throw PipelineRunError.cancelled(processed: processed) }
    }

    // MARK: Walking and preparing

    /// Walks and pairs the inputs, prepares every paired sample not `finished` earlier on
    /// `jobs` worker threads and has the committer write and journal them into `outcomes`.
    /// Returns what the walk found (files, pairs, unpaired files), once every sample handed to
    /// a worker is committed (also after a Ctrl-C, so those samples are not lost).
    private func prepareSamples(
        in folders: InputFolders, skipping finished: Set<String>, preparation: SamplePreparation,
        journal: RunJournal, outcomes: RunOutcomes
    ) throws -> RunReport {
        // Room for a few jobs per worker: the walk refills it when it has drained to half, not
        // after every job.
        let queue = BoundedQueue<Job>(capacity: 4 * options.jobs)
        setActiveQueue(queue)
        defer { setActiveQueue(nil) }
        let committer = makeCommitter(journal: journal, output: folders.output, outcomes: outcomes)
        let workers = startWorkers(taking: queue, preparation: preparation, committer: committer, outcomes: outcomes)
        let walked = walk(folders, skipping: finished, into: queue)
        queue.close(discardingPending: isCancelled)
        workers.wait()
        committer.finish()
        return walked
    }

    private func setActiveQueue(_ queue: BoundedQueue<Job>?) {
        lock.lock()
        activeQueue = queue
        lock.unlock()
    }

    /// Durable runs flush in batches: room for a few seconds of samples, so that workers never
    /// wait for a flush. Otherwise a commit is a rename, and a short queue keeps the samples
    /// finished after a Ctrl-C few.
    private func makeCommitter(journal: RunJournal, output: String, outcomes: RunOutcomes) -> SampleCommitter {
        let durable = options.durable
        let fileOptions = AtomicWriteOptions(durable: durable, createFolders: true, folderSyncs: outputFolderSyncs)
        return SampleCommitter(
            journal: journal, outcomes: outcomes, capacity: durable ? 512 : 2 * options.jobs,
            openFile: { try AtomicFileWriter(path: output + "/" + $0, options: fileOptions) },
            batched: durable, failed: { [self] in fail($0) })
    }

    /// `jobs` threads that prepare the queue's samples until it is closed and empty, or the
    /// run stops; wait on the group for them to end.
    private func startWorkers(
        taking queue: BoundedQueue<Job>, preparation: SamplePreparation, committer: SampleCommitter,
        outcomes: RunOutcomes
    ) -> DispatchGroup {
        let group = DispatchGroup()
        for index in 0..<options.jobs {
            let thread = Thread { [self] in
                let scratch = ResizeScratch()
                while let job = queue.pop(), !isCancelled {
                    process(job, preparation: preparation, committer: committer, outcomes: outcomes, scratch: scratch)
                }
                group.leave()
            }
            thread.name = "pipeline-\(index)"
            thread.stackSize = 1 << 20
            group.enter()
            thread.start()
        }
        return group
    }

    /// Pairs this slice's photos and label maps (the walkers skip the other slices' files),
    /// queues every pair not `finished`, and counts what it met: files, pairs, and the
    /// unpaired files as drops.
    private func walk(
        _ folders: InputFolders, skipping finished: Set<String>, into queue: BoundedQueue<Job>
    ) -> RunReport {
        var report = emptyReport()
        let slice = options.worker
        var photoWalker = SortedFileWalker(
            root: folders.images, naming: folders.photoNaming, topFolders: folders.topFolders, slice: slice)
        var labelWalker = SortedFileWalker(
            root: folders.labels, naming: folders.labelNaming, topFolders: folders.topFolders, slice: slice)
        var pairing = SamplePairing(
            photos: AnyIterator { photoWalker.next() }, labels: AnyIterator { labelWalker.next() })
        while let event = pairing.next() {
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
        let naming = configuration.inputs
        if naming.photoSuffix != nil || naming.labelSuffix != nil {
            report.inputNames = [naming.photoSuffix, naming.labelSuffix, naming.instanceSuffix].compactMap { $0 }
                .map { "*" + $0 }
        }
        // In one folder each walk ignores the other's files; count only what neither takes.
        report.ignoredFiles = folders.shareOneFolder
            ? max(0, labelWalker.ignoredFiles - photoWalker.yieldedFiles - photoWalker.otherSlicesFiles)
            : photoWalker.ignoredFiles + labelWalker.ignoredFiles
        report.unreadableFolders = (photoWalker.unreadableFolders + labelWalker.unreadableFolders)
            .map { "\($0.path): \($0.message)" }
        return report
    }

    private func countPhotos(in folders: InputFolders) -> Int {
        var walker = SortedFileWalker(
            root: folders.images, naming: folders.photoNaming, topFolders: folders.topFolders, slice: options.worker)
        var count = 0
        while walker.next() != nil { count += 1 }
        return count
    }
}
