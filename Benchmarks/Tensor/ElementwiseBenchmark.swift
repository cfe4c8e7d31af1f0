// Time of the non-convolution operations on the largest activation of the generator
// (1×320×256×256, up_3's input), beside a plain memory copy of the same bytes.
import Dispatch
import Foundation
import Tensor

func elementwiseBenchmark() throws {
    var random = RandomSource(seed: 3)
    let shape = [1, 320, 256, 256]
    let a = Tensor.randomNormal(shape, using: &random, requiresGrad: true)
    let b = Tensor.randomNormal(shape, using: &random, requiresGrad: true)
    let bytes = Double(a.count * 4)
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
    let copySeconds = seconds {
        var copy = [Float](repeating: 0, count: a.count)
        a.data.withUnsafeBufferPointer { source in
            copy.withUnsafeMutableBufferPointer {
                $0.baseAddress!.update(from: source.baseAddress!, count: source.count)
            }
        }
        _ = copy.count
    }
    print("\nNon-convolution operations on 1×320×256×256 (\(format(bytes / 1e6, 0)) MB per tensor), best of 3:")
    print("  fresh array + copy (memory bound): \(format(copySeconds * 1e3, 0)) ms")
    let statistics = BatchNormStatistics(channels: 320)
    let cases: [(String, () throws -> Tensor)] = [
        ("leakyRelu", { a.leakyRelu(negativeSlope: 0.2) }),
        ("relu", { a.relu() }),
        ("adding(1)", { a.adding(1) }),
        ("a + b", { try a + b }),
        ("a * b", { try a * b }),
        ("batchNorm (train)", { try a.batchNorm(statistics: statistics, training: true) }),
        ("instanceNorm", { try a.instanceNorm() }),
        (
            "upsampleNearest2x of 1×320×128×128",
            { try a.sliceChannels(0..<80).resizeNearest(height: 128, width: 128).upsampleNearest2x() }
        ),
        ("sum", { a.sum() })
    ]
    for (name, operation) in cases {
        let forward = try seconds { _ = try Tensor.withoutGradients(operation) }
        let backward = try seconds {
            let y = try operation()
            let gradient = [Float](repeating: 1, count: y.count)
            let start = DispatchTime.now().uptimeNanoseconds
            try y.backward(gradient: gradient)
            _ = start
        }
        a.zeroGradient(); b.zeroGradient()
        print(
            "  \(pad(name, 36)) forward \(format(forward * 1e3, 6)) ms (\(format(forward / copySeconds, 0, 1))× "
            + "copy), forward+backward \(format(backward * 1e3, 6)) ms")
    }
}
