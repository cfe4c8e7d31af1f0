// bench-groupdnet: the DeepFashion GroupDNet (256×256, ngf 160) on the CPU: the generator forward
// in evaluation mode, its forward + backward in training mode, and one training iteration
// (G step + D step, no VGG loss), beside cblas_sgemm measured in the same run as the bound and
// beside the reference's own code on PyTorch (float32, and bfloat16 autocast) run by the same
// process on the same threads.
//
//   swift build -c release --product bench-groupdnet
//   .build/release/bench-groupdnet [--threads N] [--repeats N] [--batch N] [--convolution LIST]
//       [--no-pytorch] [--reference PATH] [--no-backward] [--vgg | --vgg-only] [--label-gradients LIST]
//
// --convolution takes a comma-separated list of convolution routes (auto, im2col, direct,
// winograd; see ConvolutionDispatch.swift; default: $TENSOR_CONVOLUTION, else auto), measured
// one after the other, so that a pair is compared under the same machine load. --label-gradients
// takes `sums` (the default: CG-Norm's first convolution's gradients from run sums, see
// Sources/Tensor/ModulationRunSums.swift) and/or `dense` (dh computed everywhere), likewise;
// --precision takes float32 and/or bf16 (the convolutions' products in bfloat16 through oneDNN).
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
// PyTorch: pytorch_groupdnet.py beside this file runs the reference (found at --reference, else
// $SMIS_REFERENCE, else .cache/SMIS) on torch; the part is skipped with a sentence when torch or
// the reference is missing. Ratios printed are our time / PyTorch's (below 1: we are faster).
//
// The VGG19 perceptual loss (`--vgg`, or alone with `--vgg-only`) is timed the same way at
// 256×256, batch 1, full widths with random weights: the real image's features without
// gradients, the fake's with, and the backward pass to the fake (input gradients only, the
// weights are frozen), counted as 3 × one forward pass.
import BenchmarkSupport
import Foundation
import GroupDNet
import Tensor

// As `smis` does (Sources/smis/OpenMPWaitPolicy.swift): oneDNN's OpenMP threads wait passively,
// so that the bf16 and oneDNN routes are measured as smis runs them.
if getenv("OMP_WAIT_POLICY") == nil,
    let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
{
    setenv("OMP_WAIT_POLICY", "passive", 1)
    execv(executable, CommandLine.unsafeArgv)
}
var threads = TensorThreads.count
var repeats = 2, batch = 1
var includeVGG = false, onlyVGG = false, includePyTorch = true, includeBackward = true
var routes = [ConvolutionSettings.backend]
var labelGradientModes = [true]  // ModulationSettings.runSums per measurement
var precisions = [ConvolutionPrecision.float32]
var referenceOption: String?
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(
        (message + "\noptions: --threads N --repeats N --batch N --convolution auto,im2col,direct,winograd "
            + "--no-pytorch --reference PATH --no-backward --vgg --vgg-only --label-gradients sums,dense --precision float32,bf16\n")
            .data(
                using: .utf8)!)
    exit(64)
}
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repeats": repeats = max(1, Int(arguments.next() ?? "") ?? repeats)
    case "--batch": batch = max(1, Int(arguments.next() ?? "") ?? batch)
    case "--convolution":
        let names = (arguments.next() ?? "").split(separator: ",").map(String.init)
        routes = names.compactMap(ConvolutionBackend.init)
        if routes.count != names.count || routes.isEmpty { fail("--convolution: unknown route in \(names)") }
    case "--label-gradients":
        let names = (arguments.next() ?? "").split(separator: ",").map(String.init)
        labelGradientModes = names.compactMap { ["sums": true, "dense": false][$0] }
        if labelGradientModes.count != names.count || names.isEmpty { fail("--label-gradients: sums or dense") }
    case "--precision":
        let names = (arguments.next() ?? "").split(separator: ",").map(String.init)
        precisions = names.compactMap(ConvolutionPrecision.init)
        if precisions.count != names.count || names.isEmpty { fail("--precision: float32 or bf16") }
    case "--no-pytorch": includePyTorch = false
    case "--reference": referenceOption = arguments.next()
    case "--no-backward": includeBackward = false
    case "--vgg": includeVGG = true
    case "--vgg-only": (includeVGG, onlyVGG) = (true, true)
    default: fail("unknown option \(argument)")
    }
}
TensorThreads.count = threads
TensorMemory.retainFreedMemory()
setvbuf(stdout, nil, _IOLBF, 0)  // each line as it is measured, also into a file

print("bench-groupdnet: threads \(TensorThreads.count), OpenBLAS core \(TensorThreads.blasCoreName), batch \(batch)")
let bound = sgemmBound()
print(
    String(
        format: "sgemm 2048³ on %d workers: %.1f GFLOP/s wall, %.1f GFLOP per CPU second (the bounds)",
        TensorThreads.count, bound.wall, bound.perCPUSecond))

func report(_ label: String, _ times: Times, flops: Double) {
    let wall = times.map(\.wall).min()!, cpu = times.map(\.cpu).min()!
    let median = times.map(\.wall).sorted()[times.count / 2]
    let wallRate = flops / wall / 1e9, cpuRate = flops / cpu / 1e9
    print(
        String(
            format: "%-40@ best %6.2f s (median %6.2f s, %6.2f CPU s)  %6.1f GFLOP/s = %4.2f of sgemm;  %6.1f "
                + "GFLOP/CPU s = %4.2f of sgemm",
            label as NSString, wall, median, cpu, wallRate, wallRate / bound.wall, cpuRate, cpuRate / bound.perCPUSecond
        ))
}

/// Our best wall times per route: (forward, iteration).
var ours: [(route: String, forward: Double, iteration: Double)] = []

func benchmarkOurs() throws {
    var measurements: OurMeasurements?
    let construction = try measure { measurements = try OurMeasurements(batch: batch, repeats: repeats) }
    let bench = measurements!
    let forwardFlops = bench.generator.forwardFlops * Double(batch)
    print(
        String(
            format: "generator: %.2f M parameters, %.1f GFLOP forward per sample; G, E, D built in %.1f s",
            Double(bench.generator.parameterCount) / 1e6, forwardFlops / 1e9 / Double(batch), construction.wall))
    for route in routes {
        for runSums in labelGradientModes {
            for precision in precisions {
                ConvolutionSettings.backend = route
                ModulationSettings.runSums = runSums
                try ConvolutionSettings.setPrecision(precision)
                let name =
                    route.rawValue + (labelGradientModes.count > 1 ? (runSums ? ", sums" : ", dense") : "")
                    + (precision == .float32 ? "" : ", " + precision.rawValue)
                let forward = try bench.forward()
                report("[\(name)] forward (eval, no gradients)", forward, flops: forwardFlops)
                if includeBackward {
                    let (recording, total) = try bench.forwardBackward()
                    report("[\(name)] forward (training, recording)", recording, flops: forwardFlops)
                    report("[\(name)] G forward + backward (training)", total, flops: 3 * forwardFlops)
                }
                let iteration = try bench.iteration()
                let wall = iteration.map(\.wall), cpu = iteration.map(\.cpu)
                // Both cores busy? The best run's CPU seconds over threads × its wall time: the
                // rest is time a core waited (a serial stretch, or a thread waiting for another).
                let best = iteration.min { $0.wall < $1.wall }!
                print(
                    String(
                        format: "%-40@ best %6.2f s (median %6.2f s, %6.2f CPU s); cores busy %2.0f %% of it",
                        "[\(name)] iteration (G step + D step)" as NSString, wall.min()!,
                        wall.sorted()[wall.count / 2], cpu.min()!, 100 * best.cpu / (Double(threads) * best.wall)))
                ours.append((name, forward.map(\.wall).min()!, wall.min()!))
            }
        }
    }
    try ConvolutionSettings.setPrecision(.float32)
    print(
        "(nominal FLOPs: repeated im2col columns of the label-map convolutions are skipped, so ratios above 1 are "
            + "possible)")
}

func benchmarkPyTorch() {
    let reference = PyTorchReference.referenceFolder(referenceOption)
    var figures: [PyTorchFigures] = []
    for precision in ["float32", "bf16"] {
        let (measured, problem) = PyTorchReference.measure(
            precision: precision, reference: reference, threads: threads, repeats: repeats, batch: batch)
        guard let measured else {
            print("PyTorch part skipped: \(problem ?? "unknown failure")")
            return
        }
        figures.append(measured)
        print(
            String(
                format: "PyTorch %-8@ forward best %6.2f s (of %@), iteration best %6.2f s (of %@)",
                precision as NSString, measured.bestForward,
                measured.forward.map { String(format: "%.2f", $0) }.joined(separator: ", "), measured.bestIteration,
                measured.iteration.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
    }
    for (route, forward, iteration) in ours {
        for theirs in figures {
            print(
                String(
                    format: "ratio ours [%@] / PyTorch %@: forward %4.2f, iteration %4.2f", route,
                    theirs.precision, forward / theirs.bestForward, iteration / theirs.bestIteration))
        }
    }
}

if !onlyVGG {
    try benchmarkOurs()
    if includePyTorch { benchmarkPyTorch() }
}
if includeVGG { try benchmarkVGG(repeats: repeats) { report($0, $1, flops: $2) } }
