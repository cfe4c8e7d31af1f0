import AtomicFiles
import Foundation
import GroupDNet
import Records
import Tensor

/// A training checkpoint: one folder holding everything a run needs to continue exactly.
///
/// ```
/// RUN/checkpoints/step-00001000/
///     net_G.safetensors  net_E.safetensors  net_D.safetensors   reference state_dict names
///     optimizer_GE.safetensors  optimizer_D.safetensors         Adam: <param>.exp_avg, .exp_avg_sq (F32), .step (I64)
///     state.json                                                step, epoch, reader position, data digest, configuration, options
/// RUN/checkpoints/latest.json                                   {"checkpoint": "step-00001000"}
/// ```
/// The folder is written under a hidden temporary name, each file fsynced, and renamed into
/// place; `latest.json` is then replaced atomically. A crash leaves the previous checkpoint
/// as the latest. The two newest checkpoints are kept.
///
/// Loading throws, naming the file, for anything it cannot use: a missing or unreadable file,
/// an unknown format or version, a configuration or data set other than the run's, a tensor
/// missing or of another shape. Nothing is changed unless all network files fit.
public struct CheckpointState: Codable, Equatable, Sendable {
    public static let formatName = "smis-groupdnet-training"
    public static let currentVersion = 1

    public var format: String = formatName
    public var version: Int = currentVersion
    /// Steps done.
    public var step: Int
    /// The epoch of the next step.
    public var epoch: Int
    /// The shard reader's position after the last batch used.
    public var reader: ReaderState
    /// `Manifest.contentDigest` of the shards, hex: resuming on other data is refused.
    public var dataDigest: String
    public var classes: [String]
    public var configuration: GroupDNetConfiguration
    public var options: TrainingOptions
    /// Threads the tensor operations ran on (`TensorThreads.count`): they split the sums of
    /// the convolutions, so a resume on another count continues, but not bit for bit. Nil in
    /// checkpoints written before it was recorded.
    public var tensorThreads: Int?
}

public enum TrainingCheckpoint {
    static let stateFile = "state.json"
    static let latestFile = "latest.json"
    static let keptCheckpoints = 2
    static let networkFiles = ["net_G.safetensors", "net_E.safetensors", "net_D.safetensors"]
    static let generatorOptimizerFile = "optimizer_GE.safetensors"
    static let discriminatorOptimizerFile = "optimizer_D.safetensors"

    /// `RUN/checkpoints`.
    public static func folder(inRun runDirectory: URL) -> URL { runDirectory.appendingPathComponent("checkpoints") }

    /// `step-00001000`: the name of the checkpoint folder of a step.
    static func folderName(step: Int) -> String { "step-" + String(format: "%08ld", step) }

    /// Writes a checkpoint of `step`'s model and optimisers with `state`; returns its folder.
    @discardableResult
    public static func save(_ trainingStep: TrainingStep, state: CheckpointState, runDirectory: URL) throws -> URL {
        let checkpoints = folder(inRun: runDirectory)
        let name = folderName(step: state.step)
        let final = checkpoints.appendingPathComponent(name)
        let partial = checkpoints.appendingPathComponent(".partial-\(name)-\(getpid())")
        let manager = FileManager.default
        do {
            try? manager.removeItem(at: partial)
            try manager.createDirectory(at: partial, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.checkpoint(file: partial.path, reason: "cannot create: \(error.localizedDescription)")
        }
        do {
            try writeFiles(of: trainingStep, state: state, into: partial)
            try replace(final, with: partial)
        } catch {
            // A failed save (a full disk) leaves nothing behind: the partial folder would hold
            // the space the next attempt needs, until a later run cleaned it up.
            try? manager.removeItem(at: partial)
            throw error
        }
        try AtomicFileWriter.write(encoder.encode(["checkpoint": name]), to: checkpoints.appendingPathComponent(latestFile).path)
        removeOldCheckpoints(in: checkpoints, keeping: name)
        return final
    }

    /// The five safetensors files and `state.json` of a checkpoint, each written atomically.
    private static func writeFiles(of trainingStep: TrainingStep, state: CheckpointState, into folder: URL) throws {
        let model = trainingStep.model
        let networks: [Module] = [model.generator, model.encoder, model.discriminator]
        for (network, file) in zip(networks, networkFiles) {
            try network.saveCheckpoint(to: folder.appendingPathComponent(file), metadata: ["format": "pt"])
        }
        try SafeTensors.write(
            trainingStep.generatorOptimizer.checkpointFile(), to: folder.appendingPathComponent(generatorOptimizerFile))
        try SafeTensors.write(
            trainingStep.discriminatorOptimizer.checkpointFile(),
            to: folder.appendingPathComponent(discriminatorOptimizerFile))
        try AtomicFileWriter.write(encoder.encode(state), to: folder.appendingPathComponent(stateFile).path)
    }

    /// Puts the finished `partial` folder at `final`, moving an older folder of the same step away first.
    private static func replace(_ final: URL, with partial: URL) throws {
        let manager = FileManager.default
        let displaced = final.deletingLastPathComponent().appendingPathComponent(".old-\(final.lastPathComponent)-\(getpid())")
        do {
            if manager.fileExists(atPath: final.path) { try manager.moveItem(at: final, to: displaced) }
            try manager.moveItem(at: partial, to: final)
            try? manager.removeItem(at: displaced)
        } catch {
            throw TrainingError.checkpoint(file: final.path, reason: "cannot move the finished checkpoint into place: \(error.localizedDescription)")
        }
        AtomicFileWriter.syncFolder(final.deletingLastPathComponent().path)
    }

    /// Removes the `.partial-…-PID` and `.old-…-PID` folders of saves that a killed process
    /// left behind (each can be as large as a checkpoint), keeping those of live processes.
    static func removeAbandonedFolders(in checkpoints: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        for name in names where name.hasPrefix(".partial-step-") || name.hasPrefix(".old-step-") {
            guard let pid = name.split(separator: "-").last.flatMap({ Int32($0) }) else { continue }
            let alive = pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
            if !alive { try? FileManager.default.removeItem(at: checkpoints.appendingPathComponent(name)) }
        }
    }

    /// Keeps `current` (the one `latest.json` names) and the newest other ones.
    private static func removeOldCheckpoints(in checkpoints: URL, keeping current: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? [])
            .filter { isCheckpointName($0) && $0 != current }.sorted()
        for name in names.dropLast(keptCheckpoints - 1) {
            try? FileManager.default.removeItem(at: checkpoints.appendingPathComponent(name))
        }
    }

    /// The checkpoint folder `url` designates: a checkpoint folder, its `state.json`, or a run
    /// folder (its latest checkpoint). Throws naming `url` when it is none of these.
    public static func resolve(_ url: URL) throws -> URL {
        let manager = FileManager.default
        if url.lastPathComponent == stateFile { return url.deletingLastPathComponent() }
        if manager.fileExists(atPath: url.appendingPathComponent(stateFile).path) { return url }
        let latest = folder(inRun: url).appendingPathComponent(latestFile)
        if manager.fileExists(atPath: latest.path) {
            guard let data = try? Data(contentsOf: latest),
                  let name = (try? JSONDecoder().decode([String: String].self, from: data))?["checkpoint"],
                  isCheckpointName(name) else {
                throw TrainingError.checkpoint(file: latest.path, reason: "not a latest-checkpoint pointer ({\"checkpoint\": \"step-…\"} naming a folder beside it)")
            }
            return folder(inRun: url).appendingPathComponent(name)
        }
        throw TrainingError.checkpoint(file: url.path, reason: "neither a checkpoint folder (with state.json) nor a run folder (with checkpoints/latest.json)")
    }

    /// `step-` and digits only: a pointer never leads out of the checkpoints folder.
    static func isCheckpointName(_ name: String) -> Bool {
        name.hasPrefix("step-") && name.count > 5 && name.dropFirst(5).allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Reads and checks `state.json` of a checkpoint folder (see ``state(decoding:file:)``).
    public static func readState(_ checkpoint: URL) throws -> CheckpointState {
        let url = checkpoint.appendingPathComponent(stateFile)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpoint(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try state(decoding: data, file: url.path)
    }

    /// Parses and checks the bytes of a `state.json`; `file` names it in errors. Every number is
    /// checked against its bound before anything is built from it: the model's configuration
    /// (``GroupDNetConfiguration/validate()``: a `classCount` of 100000 is refused at once), the
    /// options a resume continues with (``TrainingOptions/outOfBounds``), the counters.
    public static func state(decoding data: Data, file: String) throws -> CheckpointState {
        struct Header: Decodable { var format: String?; var version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw TrainingError.checkpoint(file: file, reason: "not JSON")
        }
        guard header.format == CheckpointState.formatName else {
            throw TrainingError.checkpoint(
                file: file, reason: "format \(header.format ?? "(none)"), expected \(CheckpointState.formatName)")
        }
        guard header.version == CheckpointState.currentVersion else {
            let version = header.version.map(String.init) ?? "(none)"
            throw TrainingError.checkpoint(
                file: file,
                reason: "unsupported version \(version); this smis reads version \(CheckpointState.currentVersion)")
        }
        let state: CheckpointState
        do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
            throw TrainingError.checkpoint(file: file, reason: "incomplete state: \(error)")
        }
        guard state.step >= 0, state.epoch >= 1, state.epoch <= 2 * TrainingOptions.maximumEpochs + 1 else {
            throw TrainingError.checkpoint(
                file: file, reason: "impossible state: step \(state.step), epoch \(state.epoch)")
        }
        do { try state.configuration.validate() } catch {
            throw TrainingError.checkpoint(file: file, reason: "impossible model: \(error)")
        }
        if let problem = state.options.outOfBounds {
            throw TrainingError.checkpoint(file: file, reason: "impossible options: \(problem)")
        }
        guard state.classes.count == state.configuration.classCount, state.reader.position >= 0,
              (1...TrainingOptions.maximumRanks).contains(state.reader.worldSize),
              (1...4096).contains(state.tensorThreads ?? 1) else {
            throw TrainingError.checkpoint(
                file: file,
                reason: "impossible state: \(state.classes.count) class names for "
                    + "\(state.configuration.classCount) classes, reader position \(state.reader.position) of "
                    + "\(state.reader.worldSize) workers, \(state.tensorThreads ?? 1) threads")
        }
        return state
    }

    /// Loads a checkpoint folder into `trainingStep` (networks, then optimiser moments) and
    /// returns its state. Throws before changing anything when the state's configuration is
    /// not the model's.
    public static func load(_ checkpoint: URL, into trainingStep: TrainingStep) throws -> CheckpointState {
        let state = try readState(checkpoint)
        let model = trainingStep.model
        guard state.configuration == model.configuration else {
            throw TrainingError.checkpoint(file: checkpoint.appendingPathComponent(stateFile).path,
                                           reason: "the checkpoint's model configuration is not the one of preset \(state.options.preset.rawValue) requested now")
        }
        let networks: [Module] = [model.generator, model.encoder, model.discriminator]
        let files = try networkFiles.map { try SafeTensors.read(from: checkpoint.appendingPathComponent($0)) }
        for ((network, file), name) in zip(zip(networks, files), networkFiles) {
            try network.load(file, file: checkpoint.appendingPathComponent(name).path)
        }
        try trainingStep.generatorOptimizer.restore(from: checkpoint.appendingPathComponent(generatorOptimizerFile),
                                                    parameters: model.generatorAndEncoderParameters, stepsDone: state.step)
        try trainingStep.discriminatorOptimizer.restore(from: checkpoint.appendingPathComponent(discriminatorOptimizerFile),
                                                        parameters: model.discriminator.parameters, stepsDone: state.step)
        return state
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
