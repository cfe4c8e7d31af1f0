import Foundation
import GroupDNet
import Tensor
import Training

/// What `smis generate` and `smis train --resume` read from a checkpoint folder: `state.json`
/// and the networks' safetensors files.
enum ModelTargets {
    /// A configuration this small is built: what the bounds let through must build or be
    /// refused with an error, never trap in a layer's arithmetic.
    static let buildableParameters = 300_000

    static let state = FuzzTarget(
        name: "state", summary: "checkpoint state.json: parse and bound, schedule, resume options, small models built"
    ) { bytes in
        guard let state = try? TrainingCheckpoint.state(decoding: Data(bytes), file: "fuzz/state.json") else { return }
        let options = state.options
        let schedule = TrainingSchedule(trainRecords: max(1, options.globalBatchSize * 3), options: options)
        _ = schedule.epoch(afterSteps: state.step)
        _ = schedule.learningRates(afterSteps: state.step)
        _ = try? TrainingRequest(shardsDirectory: "s", runDirectory: "r").resumedOptions(saved: options)
        let configuration = state.configuration
        guard configuration.estimatedParameterCount <= Double(buildableParameters) else { return }
        var random = RandomSource(seed: 1)
        _ = try? Generator(configuration, using: &random)
        _ = try? Encoder(configuration, using: &random)
        _ = try? Discriminator(configuration, using: &random)
    }

    /// The tiny preset's generator, which the safetensors inputs are checked and loaded into.
    nonisolated(unsafe) static let generator: Generator = {
        var random = RandomSource(seed: 1)
        return try! Generator(.tiny, using: &random)
    }()

    static let safetensors = FuzzTarget(
        name: "safetensors", summary: "safetensors file: parse, values, re-encode, check and load into the tiny G"
    ) { bytes in
        guard let file = try? SafeTensors.decode(Data(bytes), path: "fuzz.safetensors") else { return }
        for entry in file.entries.values {
            _ = entry.floats
            _ = entry.int64s
        }
        if let encoded = try? SafeTensors.encode(file) {
            let again = try? SafeTensors.decode(encoded, path: "fuzz.safetensors")
            expect(again?.entries == file.entries, "an encoded file parses back to the same tensors")
        }
        if (try? generator.validate(file, file: "fuzz.safetensors")) != nil {
            _ = try? generator.load(file, file: "fuzz.safetensors")
        }
    }
}
