import Foundation
import GroupDNet
import Tensor

/// Where a network's constructor takes its tensors from: a weight file, or (to list the keys
/// and shapes a file must hold) a recorder.
protocol WeightSource {
    /// The float32 tensor `key` of exactly `shape`.
    func tensor(_ key: String, shape: [Int]) throws -> Tensor
}

/// Answers every request with zeros and remembers the keys and shapes asked for.
final class WeightShapeRecorder: WeightSource {
    private(set) var shapes: [String: [Int]] = [:]

    func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        shapes[key] = shape
        return Tensor.zeros(shape)
    }
}

/// A safetensors file of user-supplied network weights (as the VGG19 weights of training), read
/// once, from which each layer takes its tensors by PyTorch state_dict key, checked for type
/// and shape. Tensors the networks do not use (classifiers, batch-norm counters) are ignored.
struct WeightFile: WeightSource {
    let path: String
    let file: SafeTensors.File
    /// What the file should hold, for the hint in a "missing" error.
    let expected: String

    init(contentsOf url: URL, expected: String) throws {
        path = url.path
        self.expected = expected
        do { file = try SafeTensors.read(from: url) } catch let error as GroupDNetError {
            throw EvaluationError.weights(file: url.path, tensor: nil, reason: "\(error)")
        }
    }

    /// The float32 tensor `key` of exactly `shape`.
    func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        guard let entry = file.entries[key] else {
            throw EvaluationError.weights(file: path, tensor: key, reason: "missing (expected \(expected))")
        }
        guard entry.shape == shape, let floats = entry.floats else {
            throw EvaluationError.weights(
                file: path, tensor: key, reason: "\(entry.dtype.rawValue) \(entry.shape), expected F32 \(shape)")
        }
        return try Tensor(shape: shape, data: floats)
    }
}
