import Foundation
import Tensor

// Checkpoints: one safetensors file per network, with exactly the keys, shapes and dtypes of
// the reference network's PyTorch state_dict (float32 tensors; num_batches_tracked as an
// int64 scalar). Files written here load into the reference with
// `net.load_state_dict(safetensors.torch.load_file(path))`, and the reference's
// `save_file(net.state_dict(), path)` loads here.

extension Module {
    /// The network's state as safetensors entries, keyed by state_dict name.
    public var checkpointEntries: [String: SafeTensors.Entry] {
        var entries: [String: SafeTensors.Entry] = [:]
        for (key, entry) in namedState {
            switch entry {
            case let .float(tensor): entries[key] = SafeTensors.Entry(shape: tensor.shape, floats: tensor.data)
            case let .counter(statistics): entries[key] = SafeTensors.Entry(int64Scalar: statistics.batchesTracked)
            }
        }
        return entries
    }

    /// Writes the network's state to `url` atomically (see ``SafeTensors/write(_:to:)``).
    public func saveCheckpoint(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(SafeTensors.File(entries: checkpointEntries, metadata: metadata), to: url)
    }

    /// Reads `url` and replaces the network's state with it (see ``load(_:file:)``).
    public func loadCheckpoint(from url: URL) throws {
        try load(SafeTensors.read(from: url), file: url.path)
    }

    /// Replaces the network's state with `file`'s entries. Strict: every key must be present
    /// with the same shape and dtype, and no other key may appear. Everything is checked
    /// before anything is changed, so a failed load leaves the network as it was. Errors
    /// name the tensor and what differs; `file` names the source.
    public func load(_ checkpoint: SafeTensors.File, file: String) throws {
        try validate(checkpoint, file: file)
        for (key, entry) in namedState {
            let stored = checkpoint.entries[key]!
            switch entry {
            case let .float(tensor): tensor.data = stored.floats!
            case let .counter(statistics): statistics.batchesTracked = stored.int64s![0]
            }
        }
    }

    /// Checks that `checkpoint` has exactly this network's keys, shapes and dtypes, without
    /// changing anything; throws naming the first tensor that differs.
    public func validate(_ checkpoint: SafeTensors.File, file: String) throws {
        let state = namedState
        let expectedKeys = Set(state.map(\.key))
        let missing = state.map(\.key).filter { checkpoint.entries[$0] == nil }
        if let first = missing.first {
            throw GroupDNetError.checkpoint(
                file: file, tensor: first,
                reason: "missing from the checkpoint"
                    + (missing.count > 1
                        ? " (and \(missing.count - 1) more: \(missing.dropFirst().prefix(5).joined(separator: ", "))…)"
                        : ""))
        }
        let unexpected = checkpoint.entries.keys.filter { !expectedKeys.contains($0) }.sorted()
        if let first = unexpected.first {
            throw GroupDNetError.checkpoint(
                file: file, tensor: first,
                reason: "not a tensor of this network"
                    + (unexpected.count > 1 ? " (and \(unexpected.count - 1) more unexpected)" : ""))
        }
        for (key, entry) in state {
            let stored = checkpoint.entries[key]!
            let expectedType: SafeTensors.DType = if case .counter = entry { .int64 } else { .float32 }
            guard stored.dtype == expectedType else {
                throw GroupDNetError.checkpoint(
                    file: file, tensor: key, reason: "dtype \(stored.dtype.rawValue), expected \(expectedType.rawValue)"
                )
            }
            guard stored.shape == entry.shape else {
                throw GroupDNetError.checkpoint(
                    file: file, tensor: key, reason: "shape \(stored.shape), expected \(entry.shape)")
            }
        }
    }
}
