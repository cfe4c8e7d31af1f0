// bench-groupdnet: the DeepFashion GroupDNet generator (256×256, ngf 160, batch 1), forward in
// evaluation mode and forward + backward in training mode, beside cblas_sgemm measured in the
// same run as the bound.
//
//   swift build -c release --product bench-groupdnet
//   .build/release/bench-groupdnet [--threads N] [--repeats N] [--vgg | --vgg-only]
//
// FLOPs are counted from the layer shapes (a multiply–add is 2): 583 GFLOP forward, of which
// the CG-Norm modulation convolutions are 59 %; the backward pass does about twice the forward
// (input and weight gradients), so forward + backward is counted as 3 × forward.
//
// The bound is a 2048³ sgemm split by columns over the same workers the Tensor target uses
// (single-threaded OpenBLAS inside each, as its convolution tasks run). On a shared machine
// wall time depends on the other processes, so every line also gives GFLOP per CPU second of
// this process, set against sgemm's GFLOP per CPU second: that ratio is the one to compare.
// The FLOPs are nominal: the Tensor convolution skips exactly repeated im2col columns (the
// CG-Norm convolutions read the piecewise-constant one-hot label map), so a nominal rate can
// exceed the sgemm bound.
//
// The VGG19 perceptual loss (`--vgg`, or alone with `--vgg-only`) is timed the same way at
// 256×256, batch 1, full widths with random weights: the real image's features without
// gradients, the fake's with, and the backward pass to the fake (input gradients only, the
// weights are frozen), counted as 3 × one forward pass.
import BenchmarkSupport
import Foundation
import GroupDNet
import Tensor

var threads = TensorThreads.count
var repeats = 2
var includeVGG = false, onlyVGG = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repeats": repeats = max(1, Int(arguments.next() ?? "") ?? repeats)
    case "--vgg": includeVGG = true
    case "--vgg-only": (includeVGG, onlyVGG) = (true, true)
    default:
        FileHandle.standardError.write(
            "unknown option \(argument); options: --threads N --repeats N --vgg --vgg-only\n".data(using: .utf8)!)
        exit(64)
    }
}
TensorThreads.count = threads
TensorMemory.retainFreedMemory()

print("bench-groupdnet: threads \(TensorThreads.count), OpenBLAS core \(TensorThreads.blasCoreName)")
let bound = sgemmBound()
print(
    String(
        format: "sgemm 2048³ on %d workers: %.1f GFLOP/s wall, %.1f GFLOP per CPU second (the bounds)",
        TensorThreads.count, bound.wall, bound.perCPUSecond))

func report(_ label: String, _ times: [(wall: Double, cpu: Double)], flops: Double) {
    let wall = times.map(\.wall).min()!, cpu = times.map(\.cpu).min()!
    let median = times.map(\.wall).sorted()[times.count / 2]
    let wallRate = flops / wall / 1e9, cpuRate = flops / cpu / 1e9
    print(
        String(
            format: "%-31@ best %6.2f s (median %6.2f s, %6.2f CPU s)  %6.1f GFLOP/s = %4.2f of sgemm;  %6.1f "
                + "GFLOP/CPU s = %4.2f of sgemm",
            label as NSString, wall, median, cpu, wallRate, wallRate / bound.wall, cpuRate, cpuRate / bound.perCPUSecond
        ))
}

func benchmarkGenerator() throws {
    let configuration = GroupDNetConfiguration.deepFashion
    var random = RandomSource(seed: 1)
    var generatorOrNil: Generator?
    let construction = try measure { generatorOrNil = try Generator(configuration, using: &random) }
    let generator = generatorOrNil!
    let forwardFlops = generator.forwardFlops
    print(
        String(
            format: "generator: %.2f M parameters, %.1f GFLOP forward per sample, built in %.1f s",
            Double(generator.parameterCount) / 1e6, forwardFlops / 1e9, construction.wall))

    // A label map of horizontal bands of the eight classes, and z ~ N(0, I).
    let size = configuration.imageHeight
    let labels = (0..<(size * size)).map { UInt8(($0 / size) * 8 / size) }
    let seg = try ModelInput.oneHot(labels: labels, batch: 1, height: size, width: size, classes: 8)
    let z = Tensor.randomNormal(configuration.latentShape(batch: 1), using: &random)

    var forwardTimes: [(wall: Double, cpu: Double)] = []
    for _ in 0..<repeats {
        forwardTimes.append(
            try measure { _ = try Tensor.withoutGradients { try generator(seg: seg, z: z, training: false) } })
    }
    report("forward (eval, no gradients)", forwardTimes, flops: forwardFlops)

    var recordingTimes: [(wall: Double, cpu: Double)] = [], trainingTimes: [(wall: Double, cpu: Double)] = []
    for _ in 0..<repeats {
        generator.zeroGradients()
        var output: Tensor?
        let forward = try measure { output = try generator(seg: seg, z: z, training: true) }
        let backward = try measure { try output!.mean().backward() }
        recordingTimes.append(forward)
        trainingTimes.append((forward.wall + backward.wall, forward.cpu + backward.cpu))
    }
    report("forward (training, recording)", recordingTimes, flops: forwardFlops)
    report("forward + backward (training)", trainingTimes, flops: 3 * forwardFlops)
    print(
        "(nominal FLOPs: repeated im2col columns of the label-map convolutions are skipped, so ratios above 1 are "
        + "possible)")
    print("PyTorch 2.13, 2 threads, for orientation (platform.md, another day): forward 4.2–4.5 s")
}

func benchmarkVGG() throws {
    let vgg = try VGG19Features()
    var random = RandomSource(seed: 2)
    for (_, entry) in vgg.namedState {
        guard case let .float(tensor) = entry else { continue }
        let fanIn = tensor.rank == 4 ? tensor.shape[1] * 9 : 100
        tensor.data = random.normals(tensor.count).map { $0 * (2 / Float(fanIn)).squareRoot() }
    }
    let forwardFlops = vgg.forwardFlops(height: 256, width: 256)
    print(
        String(
            format: "VGG19 to relu5_1: %.2f M weights, %.1f GFLOP forward per 256×256 image",
            Double(vgg.namedState.reduce(0) { $0 + $1.entry.shape.reduce(1, *) }) / 1e6, forwardFlops / 1e9))
    let real = Tensor.randomNormal([1, 3, 256, 256], using: &random).tanh()
    var times: [(wall: Double, cpu: Double)] = []
    for _ in 0..<repeats {
        let fake = Tensor.randomNormal([1, 3, 256, 256], using: &random).tanh()
        fake.requiresGrad = true
        times.append(try measure { try vgg.vggLoss(fake: fake, real: real).backward() })
    }
    report("VGG loss, forward ×2 + backward", times, flops: 3 * forwardFlops)
}

if !onlyVGG { try benchmarkGenerator() }
if includeVGG { try benchmarkVGG() }
