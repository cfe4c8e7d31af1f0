import AtomicFiles
import Foundation
import GroupDNet
import ImageIO

/// What a run shows while it trains, besides `metrics.jsonl`:
///
/// - TensorBoard events in `RUN/events.out.tfevents.*`: every step's scalars (``MonitorScalars``),
///   the validation losses when they are computed, and every `sampleEvery` steps an image per
///   fixed sample (label | generated | photo).
/// - `RUN/index.html` with the curves and the latest samples with per-class resamples,
///   rewritten with each scheduled checkpoint and at the end of the run (not on an interrupt:
///   a stopping run should stop quickly). The page and its images are written atomically, the
///   images in a new `samples/step-…` folder, the page last, then older folders are removed.
///
/// Nothing here changes the training: the model runs in evaluation mode without the tape
/// (nothing in it is updated), the noise comes from sources of its own, and the records come
/// from their own reader (``MonitorRecords``), so a run trains the same weights with or without
/// it, and resumes bit for bit.
final class TrainingMonitor {
    static let pageFile = "index.html"
    static let samplesFolder = "samples"

    let options: TrainingOptions
    let model: GroupDNetModel
    /// What the caller may want to tell the user: where the samples come from, what was
    /// skipped. The library prints nothing.
    let notes: [String]
    private let runDirectory: URL
    private let synthesizer: ImageSynthesizer
    private let events: EventFileWriter
    private let samples: SampleImages?
    private let validation: ValidationEvaluator?
    private var history: RunHistory

    init(options: TrainingOptions, model: GroupDNetModel, classes: [String], runDirectory: URL, stepsDone: Int,
         metricsFile: URL) throws {
        self.options = options
        self.model = model
        self.runDirectory = runDirectory
        synthesizer = ImageSynthesizer(model: model, classes: classes)
        let shards = URL(fileURLWithPath: options.shardsDirectory)
        var notes: [String] = []
        if options.effectiveSampleCount > 0 {
            let loaded = try MonitorRecords.load(directory: shards, count: options.effectiveSampleCount,
                                                 configuration: model.configuration, resize: options.resizeToModel,
                                                 fallBackToTraining: true, purpose: "--sample-count")
            samples = SampleImages(records: loaded.records, classes: classes, seed: options.seed)
            notes.append(loaded.split == MonitorRecords.validationSplit
                ? "Samples: \(loaded.records.count) label maps of the validation split, spread over it."
                : "Samples: the shards have no validation split, so the \(loaded.records.count) samples shown are "
                    + "training records (spread over the train split).")
            notes += loaded.skipped.map { "Sample left out: \($0)" }
        } else {
            samples = nil
        }
        if let every = options.effectiveValidationEvery {
            let loaded = try MonitorRecords.load(directory: shards, count: options.effectiveValidationRecords,
                                                 configuration: model.configuration, resize: options.resizeToModel,
                                                 fallBackToTraining: false, purpose: "--val-every")
            validation = ValidationEvaluator(records: loaded.records, split: loaded.split, seed: options.seed)
            notes.append("Validation: \(loaded.records.count) records of the validation split every "
                + "\(every) steps.")
            notes += loaded.skipped.map { "Validation record left out: \($0)" }
        } else {
            validation = nil
        }
        self.notes = notes
        history = RunHistory.load(metricsFile: metricsFile, upTo: stepsDone)
        events = try EventFileWriter(directory: runDirectory)
        // A (re)start: TensorBoard drops what earlier files logged from this step on, which a
        // resume is about to log again.
        try events.append([TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(stepsDone + 1),
                                            content: .sessionStart)])
    }

    /// The event file this run writes.
    var eventFile: URL { events.url }

    /// The validation losses after `stepsDone` steps, when `--val-every` asks for them now.
    func validate(afterSteps stepsDone: Int) throws -> ValidationMetrics? {
        guard let validation, let every = options.effectiveValidationEvery, stepsDone % every == 0 else { return nil }
        return try validation.evaluate(model)
    }

    /// Logs a step: its scalars (and validation losses) to TensorBoard and the page's history,
    /// and the samples' images when `sampleEvery` divides the step.
    func record(_ metrics: StepMetrics) throws {
        history.add(metrics)
        let now = Date().timeIntervalSince1970
        let scalars = MonitorScalars.values(of: metrics).map { SummaryValue.scalar($0.tag, $0.value) }
        var batch = [TensorBoardEvent(wallTime: now, step: Int64(metrics.step), content: .summary(scalars))]
        if let samples, metrics.step % options.effectiveSampleEvery == 0 {
            let rendered = try samples.render(with: synthesizer, resamples: false)
            let images = try rendered.enumerated().map { number, sample in
                let row = sample.row
                return SummaryValue(tag: "samples/\(number)", payload: .image(width: row.width, height: row.height,
                                                                              png: try row.encodedPNG()))
            }
            batch.append(TensorBoardEvent(wallTime: now, step: Int64(metrics.step), content: .summary(images)))
        }
        try events.append(batch)
    }

    /// After a checkpoint of `step`: makes the events durable, renders the samples with their
    /// resamples and rewrites the page.
    func checkpointSaved(step: Int, lastStep: Int, epoch: Int) throws {
        try events.sync()
        let folderName = "step-" + String(format: "%08ld", step)
        let relative = Self.samplesFolder + "/" + folderName
        let folder = runDirectory.appendingPathComponent(relative)
        var pageSamples: [MonitorPage.Sample] = []
        if let samples {
            let rendered = try samples.render(with: synthesizer, resamples: true)
            try createFolder(folder)
            for (number, sample) in rendered.enumerated() {
                func save(_ image: Image, _ name: String) throws -> String {
                    try write(image.encodedPNG(), to: folder.appendingPathComponent("\(number)-\(name).png"))
                    return "\(relative)/\(number)-\(name).png"
                }
                let resamples = try sample.resamples.enumerated().map { index, resample in
                    (resample.className, try save(resample.image, "class-\(index)"))
                }
                pageSamples.append(MonitorPage.Sample(
                    key: sample.key, labelFile: try save(sample.label, "label"),
                    generatedFile: try save(sample.generated, "generated"), photoFile: try save(sample.photo, "photo"),
                    resamples: resamples))
            }
        }
        let page = MonitorPage(runName: options.runDirectory, step: step, lastStep: lastStep, epoch: epoch,
                               written: Date(), notes: notes, samples: pageSamples, history: history)
        try write(Array(page.html().utf8), to: runDirectory.appendingPathComponent(Self.pageFile))
        removeOldSampleFolders(keeping: folderName)
    }

    private func createFolder(_ folder: URL) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw TrainingError.checkpoint(file: folder.path, reason: "cannot create: \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8], to url: URL) throws {
        do { try AtomicFileWriter.write(bytes, to: url.path) } catch let error as AtomicFileError {
            throw TrainingError.checkpoint(file: url.path, reason: error.message)
        }
    }

    private func removeOldSampleFolders(keeping current: String) {
        let folder = runDirectory.appendingPathComponent(Self.samplesFolder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix("step-") && name != current {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }
}
