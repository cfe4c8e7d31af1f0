import ArgumentParser
import Distributed
import Foundation
import Tensor
import Training

/// `smis train`: trains GroupDNet on a shard set, printing one line per step.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train GroupDNet on a shard set, saving checkpoints into a run folder.",
        discussion: """
            Each iteration is one G step (adversarial + 10 × feature matching + 0.05 × G × KLD, + \
            10 × VGG19 perceptual loss with --vgg-weights; Adam lr 1e-4 for G and E) and one D \
            step (hinge; Adam lr 4e-4), betas (0, 0.9); rates are constant for --epochs, then fall \
            linearly to 0 over --decay-epochs. As the reference's training, samples are mirrored \
            at random (--no-flip) and each draws its own noise, both from --seed and the sample's \
            place in the data stream. Ctrl-C, SIGTERM (what Slurm and Kubernetes send) or \
            SIGUSR1/SIGUSR2 finishes the current step, saves a checkpoint and exits with status \
            128 + the signal (130, 143, 138, 140). Started by mpirun or srun --mpi=pmix, each \
            process is one rank of data-parallel training: --batch-size is per rank, rank 0 \
            writes the run folder, and SIGUSR1 to mpirun stops every rank with a checkpoint. \
            --resume continues exactly from the latest checkpoint, with the options the run was \
            started with: given again they must agree, except --max-steps, --save-every, \
            --threads, the paths of the shards (checked by content) and of the VGG weights, and \
            the sample and validation options. RUN_DIR receives checkpoints/, options.json, \
            metrics.jsonl, TensorBoard event files (tensorboard --logdir RUN_DIR) and index.html \
            (curves and samples, rewritten with each checkpoint).
            """)

    @Option(name: .customLong("shards"), help: ArgumentHelp("Folder with manifest.json and the shards (the train split is used).", valueName: "dir"))
    var shardsDirectory: String

    @Option(name: .customLong("out"), help: ArgumentHelp("Run folder for checkpoints, options.json and metrics.jsonl.", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp(
        "Model: deepfashion (256×256, the paper's; the default), cityscapes (512×256), ade20k (256×256), or the "
            + "reduced tiny (64×64), cityscapes-tiny (128×64) and ade20k-tiny (64×64) for tests.",
        valueName: "preset"))
    var preset: TrainingPreset?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Samples per iteration of each process (default: 1; under mpirun the global batch is ranks × n). "
            + "The paper trains with 32, the reference's scripts with 8 on 4 GPUs; "
            + "here one DeepFashion sample needs about 6 GiB, so 1 is what every machine fits.", valueName: "n"))
    var batchSize: Int?

    @Flag(help: "Do not mirror training samples at random (by default each is, with probability ½, as the reference does).")
    var noFlip = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "G of the KL term's scale, 0.05 × G × the batch mean of each sample's KL: the reference's per-GPU batch "
            + "(default: 2, its DeepFashion run; 1 for one sample per GPU). Independent of --batch-size.",
        valueName: "g"))
    var klDeviceBatch: Int?

    @Flag(help: "Resample shards of another image size to the preset's (photo bicubic, label nearest).")
    var resize = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Epochs at the full learning rate (default: 60 for deepfashion, 1 for tiny).", valueName: "n"))
    var epochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Epochs of linear decay to zero after them (default: 40 for deepfashion, 1 for tiny).", valueName: "n"))
    var decayEpochs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop when the step count reaches N (counted from the run's start, also with --resume).", valueName: "n"))
    var maxSteps: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Threads for the tensor operations (default: TENSOR_THREADS or the number of cores).", valueName: "n"))
    var threads: Int?

    @Option(parsing: .unconditional, help: "Seed of the weights, the data order and the noise (default: 0).")
    var seed: UInt64?

    @Option(help: ArgumentHelp(
        "float32 (default) or bf16: the convolutions' products in bfloat16 with float32 accumulation and weights, on a CPU with AVX512-BF16; saved with the run.",
        valueName: "p"))
    var precision: ConvolutionPrecision?

    @Flag(help: "Continue the run in --out from its latest checkpoint.")
    var resume = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Save a checkpoint every N steps (default: 1000; always also at the end and on Ctrl-C).", valueName: "n"))
    var saveEvery: Int?

    @Option(help: ArgumentHelp("VGG19 weights (safetensors with torchvision's features.<i>.weight/bias names) that turn on the perceptual loss.", valueName: "file"))
    var vggWeights: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Weight of the VGG perceptual loss (default 10; needs --vgg-weights).", valueName: "x"))
    var lambdaVgg: Float?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("TensorBoard images of the fixed samples every N steps (default: 100).",
                               valueName: "n"))
    var sampleEvery: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Validation label maps shown in TensorBoard and index.html (default: 4; 0: none).",
                               valueName: "n"))
    var sampleCount: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Compute the losses on validation records every N steps (default: 0, never).",
                               valueName: "n"))
    var valEvery: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Validation records those losses average over, spread over the split (default: 32).",
                               valueName: "n"))
    var valRecords: Int?

    func validate() throws {
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1.") }
        if let batchSize, batchSize > TrainingOptions.maximumBatchSize {
            throw ValidationError("--batch-size must be at most \(TrainingOptions.maximumBatchSize).")
        }
        let klLimit = TrainingOptions.maximumKullbackLeiblerDeviceBatch
        if let klDeviceBatch, !(1...klLimit).contains(klDeviceBatch) {
            throw ValidationError("--kl-device-batch must be between 1 and \(klLimit).")
        }
        // Bounds far beyond any real run keep the step arithmetic from overflowing.
        if let epochs, !(0...Self.maximumEpochs).contains(epochs) {
            throw ValidationError("--epochs must be between 0 and \(Self.maximumEpochs).")
        }
        if let decayEpochs, !(0...Self.maximumEpochs).contains(decayEpochs) {
            throw ValidationError("--decay-epochs must be between 0 and \(Self.maximumEpochs).")
        }
        if (epochs ?? 1) + (decayEpochs ?? 1) == 0 { throw ValidationError("--epochs and --decay-epochs cannot both be 0.") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1.") }
        if let threads, !(1...Self.maximumThreads).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maximumThreads).")
        }
        if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be at least 1.") }
        if let vggWeights, !FileManager.default.fileExists(atPath: vggWeights) {
            throw ValidationError("--vgg-weights: no file at \(vggWeights).")
        }
        if let sampleEvery, sampleEvery < 1 { throw ValidationError("--sample-every must be at least 1.") }
        if let sampleCount, !(0...Self.maximumSamples).contains(sampleCount) {
            throw ValidationError("--sample-count must be between 0 and \(Self.maximumSamples).")
        }
        if let valEvery, valEvery < 0 { throw ValidationError("--val-every must be at least 0.") }
        if let valRecords, !(1...Self.maximumValidationRecords).contains(valRecords) {
            throw ValidationError("--val-records must be between 1 and \(Self.maximumValidationRecords).")
        }
        if lambdaVgg != nil && vggWeights == nil { throw ValidationError("--lambda-vgg needs --vgg-weights.") }
        if let lambdaVgg, !(lambdaVgg >= 0 && lambdaVgg.isFinite) { throw ValidationError("--lambda-vgg must be a number ≥ 0.") }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)   // one progress line at a time, also into a pipe
        // A reader of the progress lines that goes away (`smis train … | head`) must not kill
        // the run between checkpoints: the lines are then lost, the training goes on.
        signal(SIGPIPE, SIG_IGN)
        let launch = try reportingErrors { try LaunchEnvironment.detect() }
        let status: Int32
        if launch.isLaunched {
            // A rank of an mpirun or srun job: MPI only then, so a plain `smis train` never touches it.
            let world = try reportingErrors { try MPIWorld.join(launch) }
            status = runAsRank(of: world) { try train(world, launch: launch) }
        } else {
            status = try reportingErrors { try train(SingleProcess(), launch: launch) }
        }
        // A wrapper (a Slurm requeue script, a shell loop) tells a stopped run from a finished
        // one by the status: 128 + the signal, as a shell reports a process the signal killed.
        if status != 0 { throw ExitCode(status) }
    }

    /// Trains as rank `communicator.rank` (rank 0 alone prints); returns the exit status.
    private func train(_ communicator: Communicator, launch: LaunchEnvironment) throws -> Int32 {
        if let threads {
            TensorThreads.count = threads
        } else if launch.isLaunched, ProcessInfo.processInfo.environment["TENSOR_THREADS"] == nil,
                  ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil {
            TensorThreads.count = launch.defaultThreadCount()
        }
        TensorMemory.retainFreedMemory()
        var request = TrainingRequest(shardsDirectory: shardsDirectory, runDirectory: runDirectory)
        request.preset = preset
        request.batchSize = batchSize
        request.ranks = communicator.size
        request.resizeToModel = resize
        request.constantEpochs = epochs
        request.decayEpochs = decayEpochs
        request.maxSteps = maxSteps
        request.seed = seed
        request.precision = precision
        request.flip = noFlip ? false : nil
        request.kullbackLeiblerDeviceBatch = klDeviceBatch
        request.saveEvery = saveEvery
        request.vggWeightsPath = vggWeights
        request.vggWeight = lambdaVgg
        (request.sampleEvery, request.sampleCount) = (sampleEvery, sampleCount)
        (request.validationEvery, request.validationRecords) = (valEvery, valRecords)
        let options = try communicator.collectively {
            try resume ? request.resumedOptions(saved: Trainer.savedOptions(inRun: runDirectory)) : request.freshOptions()
        }
        let trainer = try Trainer(options: options, resume: resume, communicator: communicator)
        let speaks = communicator.rank == 0
        if speaks { describe(trainer, launch: launch) }
        let interrupt = InterruptFlag(announces: speaks)
        interrupt.install()
        var reportedSkips = 0
        let outcome = try trainer.run(shouldStop: { interrupt.isRaised }) { metrics in
            guard speaks else { return }
            print(Self.progressLine(metrics))
            if let validation = metrics.validation { print(Self.validationLine(validation, step: metrics.step)) }
            for skipped in trainer.batches.skipped.dropFirst(reportedSkips) {
                printError("skipped damaged record: \(skipped)")
            }
            reportedSkips = metrics.skippedRecords
        }
        // Every rank exits with the status of the signal that stopped the run, whichever rank caught it.
        let signal = try communicator.maximum(Int64(interrupt.caughtSignal ?? 0))
        if speaks {
            let verb = outcome.interrupted ? "interrupted at" : "finished at"
            print("\(verb) step \(outcome.step); checkpoint \(outcome.checkpoint.path)"
                  + (outcome.interrupted ? " (continue with --resume)" : ""))
            // The reports scroll past among the progress lines: repeat the count at the end.
            let skipped = trainer.batches.skipped
            if !skipped.isEmpty {
                let records = Set(skipped.map { "\($0.file) \($0.record ?? -1)" }).count
                printError("damaged records: \(records) (skipped \(skipped.count) times in all, listed above); "
                           + "`smisprep verify \(trainer.options.shardsDirectory)` checks every record")
            }
        }
        return outcome.interrupted && signal > 0 ? Int32(128 + signal) : 0
    }

    static let maximumEpochs = TrainingOptions.maximumEpochs
    static let maximumThreads = 256
    static let maximumSamples = TrainingOptions.maximumSamples
    static let maximumValidationRecords = TrainingOptions.maximumValidationRecords

    private func describe(_ trainer: Trainer, launch: LaunchEnvironment) {
        let model = trainer.step.model
        let millions = { (count: Int) in String(format: "%.2f M", Double(count) / 1e6) }
        print("""
            model \(trainer.options.preset.rawValue): G \(millions(model.generator.parameterCount)), E \(millions(model.encoder.parameterCount)), \
            D \(millions(model.discriminator.parameterCount)); \(trainer.batches.set.count) training records, \
            \(trainer.schedule.stepsPerEpoch) steps per epoch, \(TensorThreads.count) threads\
            \(trainer.options.precision == .bfloat16 ? ", bf16 convolutions" : "")
            """)
        if let launcher = launch.launcher {
            let options = trainer.options, ranks = trainer.communicator.size
            // "Open MPI v4.1.4" of "Open MPI v4.1.4, package: Debian OpenMPI, ident: …".
            let library = (trainer.communicator as? MPIWorld).map { world in
                ", " + (world.libraryVersion.split(separator: ",").first.map(String.init) ?? world.libraryVersion)
            } ?? ""
            print("data parallel: \(ranks) ranks (\(launcher.rawValue)\(library)) × batch \(options.batchSize) = "
                  + "global batch \(options.globalBatchSize), \(TensorThreads.count) threads each; rank 0 writes the "
                  + "run's files")
        }
        if model.perceptualNetwork != nil { print("VGG19 perceptual loss on, weight \(model.lossWeights.vgg)") }
        for note in trainer.monitorNotes { print(note) }
        let run = trainer.options.runDirectory
        print("TensorBoard: tensorboard --logdir \(run) (events in \(trainer.eventFile?.lastPathComponent ?? "?")); "
              + "page: \(URL(fileURLWithPath: run).appendingPathComponent("index.html").path), "
              + "written with each checkpoint")
        if let resumed = trainer.resumedFrom { print("resumed from \(resumed.path) at step \(trainer.stepsDone)") }
        if let threads = trainer.resumedWithOtherThreadCount {
            printError("note: the run was trained on \(threads) threads, this one uses \(TensorThreads.count): it continues, "
                       + "but not bit for bit (--threads \(threads) would)")
        }
        if let ranks = trainer.resumedWithOtherRankCount {
            printError("note: the run was trained on \(ranks) rank\(ranks == 1 ? "" : "s"), this one on "
                       + "\(trainer.communicator.size): the same samples at the same global batch, with sums split "
                       + "otherwise, so not bit for bit")
        }
    }

    /// "validation at step 100 (32 records, 41.20 s)  G 3.102 (adv 0.950 feat 2.100 kld 0.052)  D 1.901 (fake …".
    static func validationLine(_ validation: ValidationMetrics, step: Int) -> String {
        let g = validation.losses.generator, d = validation.losses.discriminator
        func f(_ value: Float) -> String { String(format: "%.3f", value) }
        return "validation at step \(step) (\(validation.records) records, "
            + String(format: "%.2f s)  ", validation.seconds)
            + "G \(f(g.total)) (adv \(f(g.adversarial)) feat \(f(g.featureMatching)) kld \(f(g.kullbackLeibler))"
            + (g.vgg.map { " vgg \(f($0))" } ?? "") + ")  "
            + "D \(f(d.total)) (fake \(f(d.fake)) real \(f(d.real)))"
    }

    /// "step 12/500  epoch 1  G 3.412 (adv 0.981 feat 2.405 kld 0.026)  D 1.987 (fake 0.995 real 0.992)  1.85 samples/s  0.54 s/it",
    /// with " vgg 4.210" after kld when the perceptual loss is on.
    static func progressLine(_ metrics: StepMetrics) -> String {
        let g = metrics.losses.generator, d = metrics.losses.discriminator
        func f(_ value: Float) -> String { String(format: "%.3f", value) }
        return "step \(metrics.step)/\(metrics.lastStep)  epoch \(metrics.epoch)  "
            + "G \(f(g.total)) (adv \(f(g.adversarial)) feat \(f(g.featureMatching)) kld \(f(g.kullbackLeibler))"
            + (g.vgg.map { " vgg \(f($0))" } ?? "") + ")  "
            + "D \(f(d.total)) (fake \(f(d.fake)) real \(f(d.real)))  "
            + String(format: "%.2f samples/s  %.2f s/it", metrics.samplesPerSecond, metrics.seconds)
    }
}

extension TrainingPreset: ExpressibleByArgument {}
extension ConvolutionPrecision: ExpressibleByArgument {}
