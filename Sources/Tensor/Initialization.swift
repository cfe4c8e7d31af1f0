import Foundation

extension Tensor {
    /// Xavier (Glorot) normal initialisation with a gain, as `torch.nn.init.xavier_normal_`:
    /// samples N(0, std²) with std = gain·√(2 / (fan_in + fan_out)), where for a conv weight
    /// Cout×Cin/G×KH×KW fan_in = Cin/G·KH·KW and fan_out = Cout·KH·KW (PyTorch's rule; a 2-D
    /// weight out×in has fan_in = in, fan_out = out). GroupDNet uses gain 0.02.
    /// The result is a leaf that requires gradients. Throws for shapes of fewer than two axes.
    public static func xavierNormal(
        _ shape: [Int], gain: Float, using source: inout RandomSource,
        name: String = ""
    ) throws -> Tensor {
        guard shape.count >= 2 else {
            throw TensorError.invalidArgument(
                operation: "xavierNormal", reason: "needs at least two axes, got \(shape)")
        }
        let receptiveField = shape.dropFirst(2).reduce(1, *)
        let fanIn = shape[1] * receptiveField, fanOut = shape[0] * receptiveField
        let deviation = gain * Float((2.0 / Double(fanIn + fanOut)).squareRoot())
        let values = source.normals(shape.reduce(1, *)).map { $0 * deviation }
        return Tensor(uncheckedShape: shape, data: values, requiresGrad: true, name: name)
    }
}
