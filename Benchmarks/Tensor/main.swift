// bench-tensor: convolution speed of the Tensor target on every convolution shape of the
// DeepFashion GroupDNet generator (256×256, batch 1), each beside cblas_sgemm on the matching
// matrix shapes measured in the same run.
//
//   swift build -c release --product bench-tensor
//   OPENBLAS_CORETYPE=Haswell .build/release/bench-tensor [--threads N] [--no-backward] [--no-group-check]
//   add --generator (or --generator-only) to time a minimal whole generator built from the ops
//   .build/release/bench-tensor --sgemm-only    (compare kernel choices: run with and without the variable)
//
// Columns: forward and backward time, achieved GFLOP/s, the sgemm bound (the same matrix
// products done by bare cblas_sgemm: y = W·col forward; dW = dy·colᵀ and dcol = Wᵀ·dy backward)
// and conv/bound ratios. "grp/dense" is the grouped conv's time per FLOP over a dense conv of
// one group's size (Cin/G → Cout/G) times G; the target is ≤ 1.5.
import BenchmarkSupport
import CBLAS
import Foundation
import Tensor

// MARK: Options

var threads = TensorThreads.count
var measureBackward = true
var checkGroups = true
var sgemmOnly = false
var runGenerator = false
var onlyGenerator = false
var generatorRepeats = 2
var runOperations = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--no-backward": measureBackward = false
    case "--no-group-check": checkGroups = false
    case "--sgemm-only": sgemmOnly = true
    case "--generator": runGenerator = true
    case "--operations": runOperations = true; onlyGenerator = true
    case "--generator-only": runGenerator = true; onlyGenerator = true
    default:
        FileHandle.standardError.write(
            "unknown option \(argument); options: --threads N --no-backward --no-group-check --sgemm-only --generator --generator-only --operations\n"
                .data(using: .utf8)!)
        exit(64)
    }
}
TensorThreads.count = threads
TensorMemory.retainFreedMemory()

// MARK: Timing

/// Seconds per call of `body`: one call, repeated until at least 0.3 s when it is short.
func secondsPerCall(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    let once = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard once < 0.1 else { return once }
    let repeats = max(2, Int(0.3 / max(once, 1e-6)))
    let again = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repeats { try body() }
    return Double(DispatchTime.now().uptimeNanoseconds - again) / 1e9 / Double(repeats)
}

var source = RandomSource(seed: 1)

/// Seconds of one row-major sgemm C(m×n) = op(A)·op(B), its columns split across the
/// workers, each running single-threaded OpenBLAS, as the convolution tasks do.
func sgemmSeconds(_ m: Int, _ n: Int, _ k: Int, transposeA: Bool = false, transposeB: Bool = false) -> Double {
    let a = source.normals(m * k), b = source.normals(k * n)
    var c = [Float](repeating: 0, count: m * n)
    let workers = min(TensorThreads.count, n)
    return secondsPerCall {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    let (ap, bp, cp) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        let start = n * w / workers, end = n * (w + 1) / workers
                        cblas_sgemm(
                            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(end - start), Int32(k), 1, ap, Int32(transposeA ? m : k),
                            transposeB ? bp + start * k : bp + start, Int32(transposeB ? k : n), 0, cp + start, Int32(n)
                        )
                    }
                }
            }
        }
    }
}

/// Forward and backward seconds of one convolution shape.
func convolutionSeconds(_ shape: ConvolutionShape, backward: Bool) throws -> (forward: Double, backward: Double) {
    let x = Tensor.randomNormal(
        [1, shape.inputChannels, shape.size, shape.size], using: &source, requiresGrad: backward)
    let weight = Tensor.randomNormal(
        [shape.outputChannels, shape.inputChannels / shape.groups, shape.kernel, shape.kernel],
        using: &source, requiresGrad: backward)
    let bias = shape.bias ? Tensor.randomNormal([shape.outputChannels], using: &source, requiresGrad: backward) : nil
    func run() throws -> Tensor {
        try x.conv2d(weight: weight, bias: bias, stride: 1, padding: shape.padding, groups: shape.groups)
    }
    let forward = try secondsPerCall { _ = try Tensor.withoutGradients(run) }
    guard backward else { return (forward, 0) }
    // Backward alone: record a fresh graph each time (backward releases it), time only the
    // gradient pass, until 0.3 s or 50 runs.
    var total = 0.0, runs = 0
    repeat {
        let y = try run()
        let gradient = [Float](repeating: 0.5, count: y.count)
        let start = DispatchTime.now().uptimeNanoseconds
        try y.backward(gradient: gradient)
        total += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        runs += 1
        x.zeroGradient(); weight.zeroGradient(); bias?.zeroGradient()
    } while total < 0.3 && runs < 50
    return (forward, total / Double(runs))
}

func format(_ value: Double, _ width: Int, _ decimals: Int = 1) -> String {
    let text = String(format: "%.\(decimals)f", value)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}
func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

// MARK: Run

let environment = ProcessInfo.processInfo.environment
print(
    "bench-tensor: threads \(TensorThreads.count), OpenBLAS core \(TensorThreads.blasCoreName), OPENBLAS_CORETYPE=\(environment["OPENBLAS_CORETYPE"] ?? "(unset)")"
)
let (peak, peakPerCPUSecond) = sgemmBound()
print(
    "cblas_sgemm 2048³ on \(TensorThreads.count) workers: \(format(peak, 0)) GFLOP/s wall, "
        + "\(format(peakPerCPUSecond, 0)) GFLOP per CPU second (the bound for this run)")
// Skinny im2col products: platform.md's example and the forward of up_3.conv_0 per chunk and whole.
for (m, k, n) in [(64, 576, 65536), (160, 2880, 65536), (160, 2880, 1280), (320, 1152, 65536)] {
    let rate = 2 * Double(m * k * n) / sgemmSeconds(m, n, k) / 1e9
    print("cblas_sgemm M=\(m) K=\(k) N=\(n) (im2col shape): \(format(rate, 0)) GFLOP/s")
}
print("")
if sgemmOnly { exit(0) }

let layers = generatorConvolutions()
if !onlyGenerator {
    var uniqueShapes: [ConvolutionShape] = []
    var occurrences: [ConvolutionShape: [String]] = [:]
    for layer in layers {
        if occurrences[layer.shape] == nil { uniqueShapes.append(layer.shape) }
        occurrences[layer.shape, default: []].append(layer.name)
    }

    print(
        pad("layer (×count)", 34), pad("shape", 22), "GFLOP", "  fwd ms", " GF/s", "sgemm", " ratio",
        "  bwd ms", " GF/s", "sgemm", " ratio", " grp/dense")
    var totals = (flops: 0.0, forward: 0.0, backward: 0.0, forwardBound: 0.0, backwardBound: 0.0)
    var worstGroupRatio = 0.0
    var groupedTotals = (grouped: 0.0, dense: 0.0)
    for shape in uniqueShapes {
        let names = occurrences[shape]!
        let count = Double(names.count)
        let m = shape.outputChannels / shape.groups,
            k = shape.inputChannels / shape.groups * shape.kernel * shape.kernel
        let n = shape.size * shape.size
        let g = Double(shape.groups)
        let forwardBound = g * sgemmSeconds(m, n, k)
        let backwardBound =
            measureBackward
            ? g * (sgemmSeconds(m, k, n, transposeB: true) + sgemmSeconds(k, n, m, transposeA: true)) : 0
        let times = try convolutionSeconds(shape, backward: measureBackward)
        var groupColumn = ""
        if checkGroups && shape.groups > 1 {
            var dense = shape
            dense.inputChannels /= shape.groups
            dense.outputChannels /= shape.groups
            dense.groups = 1
            let denseTimes = try convolutionSeconds(dense, backward: false)
            let ratio = times.forward / (g * denseTimes.forward)
            if shape.forwardFlops >= 1e9 { worstGroupRatio = max(worstGroupRatio, ratio) }
            groupedTotals.grouped += count * times.forward
            groupedTotals.dense += count * g * denseTimes.forward
            groupColumn = format(ratio, 10, 2)
        }
        let gflop = shape.forwardFlops / 1e9
        let label = names.count == 1 ? names[0] : "\(names[0]) (×\(names.count))"
        var row = pad(label, 34) + " " + pad(shape.description, 22) + format(gflop, 6, 2)
        row += format(times.forward * 1e3, 8) + format(gflop / times.forward, 6, 0) + format(gflop / forwardBound, 6, 0)
        row += format(forwardBound / times.forward, 6, 2)
        if measureBackward {
            row += format(times.backward * 1e3, 8) + format(2 * gflop / times.backward, 6, 0)
            row += format(2 * gflop / backwardBound, 6, 0) + format(backwardBound / times.backward, 6, 2)
        }
        print(row + groupColumn)
        totals.flops += count * shape.forwardFlops
        totals.forward += count * times.forward
        totals.backward += count * times.backward
        totals.forwardBound += count * forwardBound
        totals.backwardBound += count * backwardBound
    }

    print("\nAll \(layers.count) generator convolutions (\(uniqueShapes.count) distinct shapes), batch 1, 256×256:")
    print(
        "  forward  \(format(totals.forward, 0, 2)) s, \(format(totals.flops / 1e9, 0)) GFLOP, "
            + "\(format(totals.flops / totals.forward / 1e9, 0)) GFLOP/s; sgemm on the same products "
            + "\(format(totals.forwardBound, 0, 2)) s → ratio \(format(totals.forwardBound / totals.forward, 0, 2)); vs "
            + "2048³ peak \(format(totals.flops / totals.forward / 1e9 / peak, 0, 2))")
    if measureBackward {
        let both = totals.forward + totals.backward
        print(
            "  backward \(format(totals.backward, 0, 2)) s, sgemm bound \(format(totals.backwardBound, 0, 2)) s → "
                + "ratio \(format(totals.backwardBound / totals.backward, 0, 2))")
        print(
            "  forward+backward \(format(both, 0, 2)) s, \(format(3 * totals.flops / both / 1e9, 0)) GFLOP/s = "
                + "\(format(3 * totals.flops / both / 1e9 / peak, 0, 2)) of the 2048³ sgemm rate (target ≥ 0.60)")
    }
    if checkGroups {
        print(
            "  grouped convolutions, all together: \(format(groupedTotals.grouped, 0, 2)) s against "
                + "\(format(groupedTotals.dense, 0, 2)) s for G dense convolutions of one group's size → time per FLOP "
                + "ratio \(format(groupedTotals.grouped / groupedTotals.dense, 0, 2)) (target ≤ 1.5)")
        print(
            "  worst single grouped layer of ≥ 1 GFLOP: \(format(worstGroupRatio, 0, 2)) (smaller layers take "
                + "milliseconds and are mostly noise here)")
    }
}

if runOperations { try elementwiseBenchmark() }

// MARK: Whole generator (a minimal one built from the public operations; see MinimalGenerator.swift)

if runGenerator {
    var random = RandomSource(seed: 7)
    let generator = try BenchGenerator(using: &random)
    let parameterCount = generator.parameters.reduce(0) { $0 + $1.count }
    print("\nMinimal generator: \(format(Double(parameterCount) / 1e6, 0, 2)) M parameters (spec: 96.32 M)")
    let seg = syntheticLabelMap(size: 256)
    let z = Tensor.randomNormal([1, 64, 4, 4], using: &random)
    var forwardTimes: [(wall: Double, cpu: Double)] = []
    for _ in 0..<generatorRepeats {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        _ = try Tensor.withoutGradients { try generator(z, seg) }
        forwardTimes.append(
            (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, processCPUSeconds() - cpuStart))
    }
    let forward = forwardTimes.min { $0.wall < $1.wall }!
    print(
        "  forward (no grad), batch 1, wall (cpu) s: \(forwardTimes.map { "\(format($0.wall, 0, 2)) (\(format($0.cpu, 0, 1)))" }.joined(separator: ", "))"
    )
    print(
        "    best \(format(forward.wall, 0, 2)) s = \(format(582.7 / forward.wall, 0)) GFLOP/s = "
            + "\(format(582.7 / forward.wall / peak, 0, 2)) of the sgemm wall rate; \(format(582.7 / forward.cpu, 0)) "
            + "GFLOP per CPU second = \(format(582.7 / forward.cpu / peakPerCPUSecond, 0, 2)) of sgemm's; PyTorch 2 "
            + "threads: 4.2–4.5 s (platform.md)")
    if measureBackward {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        let output = try generator(z, seg)
        let afterForward = DispatchTime.now().uptimeNanoseconds
        try output.backward(gradient: [Float](repeating: 1e-3, count: output.count))
        let end = DispatchTime.now().uptimeNanoseconds
        let recorded = Double(afterForward - start) / 1e9, both = Double(end - start) / 1e9,
            cpu = processCPUSeconds() - cpuStart
        print(
            "  forward with graph \(format(recorded, 0, 2)) s + backward \(format(both - recorded, 0, 2)) s = "
                + "\(format(both, 0, 2)) s wall, \(format(cpu, 0, 1)) s cpu")
        print(
            "    ≈\(format(3 * 582.7 / both, 0)) GFLOP/s (conv FLOPs ×3) = \(format(3 * 582.7 / both / peak, 0, 2)) "
                + "of the sgemm wall rate; \(format(3 * 582.7 / cpu, 0)) GFLOP per CPU second = "
                + "\(format(3 * 582.7 / cpu / peakPerCPUSecond, 0, 2)) of sgemm's (target ≥ 0.60)")
    }
}
