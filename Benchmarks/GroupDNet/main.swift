// bench-groupdnet: the DeepFashion GroupDNet generator (256×256, ngf 160, batch 1), forward in
// evaluation mode and forward + backward in training mode, beside cblas_sgemm measured in the
// same run as the bound.
//
//   swift build -c release --product bench-groupdnet
//   OPENBLAS_CORETYPE=Haswell .build/release/bench-groupdnet [--threads N] [--repeats N]
//
// FLOPs are counted from the layer shapes (a multiply–add is 2): 583 GFLOP forward; the
// backward pass does about twice that (input and weight gradients), so forward + backward is
// counted as 3 × forward. The ratio column is achieved GFLOP/s over the sgemm bound.
import CBLAS
import Foundation
import GroupDNet
import Tensor

var threads = TensorThreads.count
var repeats = 2
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repeats": repeats = max(1, Int(arguments.next() ?? "") ?? repeats)
    default:
        FileHandle.standardError.write("unknown option \(argument); options: --threads N --repeats N\n".data(using: .utf8)!)
        exit(64)
    }
}
TensorThreads.count = threads

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// GFLOP/s of one row-major sgemm C(m×n) = A(m×k)·B(k×n), best of a few runs.
func sgemmRate(_ m: Int, _ n: Int, _ k: Int) -> Double {
    var random = RandomSource(seed: 7)
    let a = random.normals(m * k), b = random.normals(k * n)
    var c = [Float](repeating: 0, count: m * n)
    var best = Double.infinity
    for _ in 0..<3 {
        best = min(best, seconds {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        })
    }
    return 2 * Double(m * n * k) / best / 1e9
}

print("bench-groupdnet: threads \(TensorThreads.count), OpenBLAS core \(TensorThreads.blasCoreName)")
let configuration = GroupDNetConfiguration.deepFashion
var random = RandomSource(seed: 1)
let buildTime = seconds {}
var generatorOrNil: Generator?
let constructionSeconds = try seconds { generatorOrNil = try Generator(configuration, using: &random) }
let generator = generatorOrNil!
let forwardFlops = generator.forwardFlops
print(String(format: "generator: %.2f M parameters, %.1f GFLOP forward per sample, built in %.1f s",
             Double(generator.parameterCount) / 1e6, forwardFlops / 1e9, constructionSeconds + buildTime))

// Bounds: a large square product and the generator's heaviest im2col product (up_3's
// mlp_gamma/mlp_beta: M = 320 outputs, K = 128·9, one 16 MiB chunk of N = 14 rows × 256).
let squareRate = sgemmRate(2048, 2048, 2048)
let skinnyRate = sgemmRate(320, 14 * 256, 1152)
let bound = max(squareRate, skinnyRate)
print(String(format: "sgemm: %.1f GFLOP/s on 2048³, %.1f GFLOP/s on 320×3584×1152 (bound %.1f)", squareRate, skinnyRate, bound))

// A label map of horizontal bands of the eight classes, and z ~ N(0, I).
let size = configuration.imageHeight
let labels = (0..<(size * size)).map { UInt8(($0 / size) * 8 / size) }
let seg = try ModelInput.oneHot(labels: labels, batch: 1, height: size, width: size, classes: 8)
let z = Tensor.randomNormal(configuration.latentShape(batch: 1), using: &random)

func report(_ label: String, _ times: [Double], flops: Double) {
    let best = times.min()!, median = times.sorted()[times.count / 2]
    let rate = flops / best / 1e9
    print(String(format: "%-34@ best %7.2f s  median %7.2f s  %6.1f GFLOP/s  %5.2f of sgemm", label as NSString, best, median, rate, rate / bound))
}

var forwardTimes: [Double] = []
for _ in 0..<repeats {
    forwardTimes.append(try seconds { _ = try Tensor.withoutGradients { try generator(seg: seg, z: z, training: false) } })
}
report("forward (eval, no gradients)", forwardTimes, flops: forwardFlops)

var trainingTimes: [Double] = []
var forwardPart: [Double] = []
for _ in 0..<repeats {
    generator.zeroGradients()
    var output: Tensor?
    let forwardTime = try seconds { output = try generator(seg: seg, z: z, training: true) }
    let backwardTime = try seconds { try output!.mean().backward() }
    forwardPart.append(forwardTime)
    trainingTimes.append(forwardTime + backwardTime)
}
report("forward (training, recording)", forwardPart, flops: forwardFlops)
report("forward + backward (training)", trainingTimes, flops: 3 * forwardFlops)
