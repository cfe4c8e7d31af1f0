// bench-distributed: data-parallel `smis train` on this machine, and what it predicts for a
// cluster. Three configurations train the same synthetic shards, alternating over rounds (the
// machine's speed drifts), each a fresh `smis train` (or `mpirun … smis train`):
//
//   A  one process, 2 threads, batch 2          the bound: one global step of 2 samples
//   B  mpirun -np 2, 1 thread each, batch 1     the same global step on two ranks
//   C  one process, 2 threads, batch 1          one node of a cluster at batch 1 per node
//
//   swift build -c release --scratch-path .build-bench --product bench-distributed --product smis
//   .build-bench/release/bench-distributed [--preset deepfashion|tiny] [--steps N] [--rounds N]
//
// Step times are the medians of each run's steps after the first (which allocates); B's
// `dataParallel` metrics give the gradient bytes, the all-reduce time, the part of it the
// backward passes did not hide, and the main thread's own collectives. The target: B at most
// 1.1 × A.
//
// The cluster table is a model, not a measurement: C's step time as each node's compute (one
// rank of 2 cores at batch 1), plus the all-reduce of the measured gradient bytes as an ideal
// ring at line rate with 20 µs per message (2(N − 1)/N · bytes / bandwidth + 2(N − 1) · α per
// bucket), of which the backward passes hide what fits in their measured share of a step, never
// the last bucket of the G step nor D's gradients (one bucket, sent as D's short backward ends);
// plus the batch-norm and loss all-reduces (small, 2 · log₂ N · α each).
import Dispatch
import Foundation
import GroupDNet
import ImageIO
import Records
import Tensor

var preset = "deepfashion", steps = 4, rounds = 2
var smisPath = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("smis").path
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--preset": preset = arguments.next() ?? preset
    case "--steps": steps = max(2, Int(arguments.next() ?? "") ?? steps)
    case "--rounds": rounds = max(1, Int(arguments.next() ?? "") ?? rounds)
    case "--smis": smisPath = arguments.next() ?? smisPath
    default:
        let usage = "options: --preset deepfashion|tiny --steps N --rounds N --smis PATH\n"
        FileHandle.standardError.write(Data(usage.utf8))
        exit(64)
    }
}
let configuration: GroupDNetConfiguration = preset == "tiny" ? .tiny : .deepFashion
guard FileManager.default.isExecutableFile(atPath: smisPath) else {
    let message = "no smis at \(smisPath): build it beside this benchmark, or pass --smis\n"
    FileHandle.standardError.write(Data(message.utf8))
    exit(1)
}
let mpirun = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
    .map { "\($0)/mpirun" }.first(where: FileManager.default.isExecutableFile) ?? "/usr/bin/mpirun"

// MARK: Shards: 16 samples of label bands and class colours with noise, at the preset's size.

let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-distributed-\(getpid())")
let shards = work.appendingPathComponent("shards")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
let classes = ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"]
let size = configuration.imageWidth
let source = RecordSource(split: "train", count: 16, identity: { "train/\($0)" }) { number in
    var random = RandomSource(seed: UInt64(number))
    var labels = [UInt8](repeating: 0, count: size * size), pixels = [UInt8](repeating: 0, count: size * size * 3)
    for y in 0..<size {
        for x in 0..<size {
            let label = ((y + number * 7) / max(1, size / 8) + (x > size / 2 ? 1 : 0)) % 8
            labels[y * size + x] = UInt8(label)
            for channel in 0..<3 {
                let noise = Int(random.next() >> 60)
                pixels[(y * size + x) * 3 + channel] = UInt8((label * 37 + channel * 80 + noise) % 256)
            }
        }
    }
    return try SegmentationRecord.example(
        key: "train-\(number)", photo: .pixels(Image(width: size, height: size, pixels: pixels)),
        label: LabelMap(width: size, height: size, values: labels), classCount: 8, imageEncoding: .raw,
        labelEncoding: .raw).encoded()
}
_ = try ShardSetWriter(configuration: .init(directory: shards, sizing: .records(8), toolVersion: "bench-distributed",
                                            schema: SegmentationRecord.schema, classes: classes,
                                            settings: ["image": "raw", "label": "raw"])).write([source])

// MARK: Runs

struct Run {
    var stepSeconds: Double
    var metrics: [[String: Any]]
    /// Medians over the steps after the first of a `dataParallel` figure.
    func parallel(_ key: String) -> Double {
        median(metrics.dropFirst().compactMap { ($0["dataParallel"] as? [String: Any])?[key] as? Double })
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
}

/// The 1-minute load average: the other processes' share of the machine while a run ran.
func loadAverage() -> Double {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return Double(text.split(separator: " ").first ?? "") ?? .nan
}

/// Runs `smis train` (under `mpirun -np ranks` when ranks > 1) and reads its metrics.
func train(_ name: String, ranks: Int, threads: Int, batch: Int) throws -> Run {
    let run = work.appendingPathComponent(name)
    try? FileManager.default.removeItem(at: run)
    let trainArguments = ["train", "--shards", shards.path, "--out", run.path, "--preset", preset, "--batch-size",
                          "\(batch)", "--threads", "\(threads)", "--max-steps", "\(steps)", "--sample-count", "0",
                          "--save-every", "1000000"]
    let process = Process()
    if ranks == 1 {
        process.executableURL = URL(fileURLWithPath: smisPath)
        process.arguments = trainArguments
    } else {
        process.executableURL = URL(fileURLWithPath: mpirun)
        let root = getuid() == 0 ? ["--allow-run-as-root"] : []
        process.arguments = root + ["-np", "\(ranks)", "--bind-to", "core", smisPath] + trainArguments
    }
    var environment = ProcessInfo.processInfo.environment
    environment["TENSOR_THREADS"] = nil
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    let loadBefore = loadAverage()
    try process.run()
    process.waitUntilExit()
    loads.append((name, loadBefore, loadAverage()))
    guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad, userInfo: ["run": name]) }
    let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        .split(separator: "\n")
    let metrics = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
    try? FileManager.default.removeItem(at: run)
    return Run(stepSeconds: median(metrics.dropFirst().compactMap { $0["seconds"] as? Double }), metrics: metrics)
}

print("bench-distributed: preset \(preset), \(steps) steps per run (the first not counted), \(rounds) rounds; "
      + "\(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS core \(TensorThreads.blasCoreName)")
var alone: [Run] = [], ranked: [Run] = [], node: [Run] = []
var loads: [(run: String, before: Double, after: Double)] = []
for round in 1...rounds {
    alone.append(try train("A", ranks: 1, threads: 2, batch: 2))
    ranked.append(try train("B", ranks: 2, threads: 1, batch: 1))
    node.append(try train("C", ranks: 1, threads: 2, batch: 1))
    let runLoads = loads.suffix(3).map { String(format: "%@ %.1f–%.1f", $0.run, $0.before, $0.after) }
    print(String(format: "round %d: A %.2f s, B %.2f s (%.3f × A), C %.2f s per step; load average %@", round,
                 alone.last!.stepSeconds, ranked.last!.stepSeconds, ranked.last!.stepSeconds / alone.last!.stepSeconds,
                 node.last!.stepSeconds, runLoads.joined(separator: ", ")))
}
let stepA = median(alone.map(\.stepSeconds)), stepB = median(ranked.map(\.stepSeconds))
// A and B of one round ran minutes apart, so their ratio is the steadier figure.
let ratio = median(zip(ranked, alone).map { $0.stepSeconds / $1.stepSeconds })
let compute = median(node.map(\.stepSeconds))
let gradientBytes = median(ranked.map { $0.parallel("gradientBytes") })
let buckets = median(ranked.map { $0.parallel("buckets") })
let allreduce = median(ranked.map { $0.parallel("allreduceSeconds") })
let exposed = median(ranked.map { $0.parallel("exposedSeconds") })
let backward = median(ranked.map { $0.parallel("backwardSeconds") })
let synchronization = median(ranked.map { $0.parallel("synchronizationSeconds") })
print(String(format: "A  1 process × 2 threads, batch 2: %.2f s per global step (the bound)", stepA))
print(String(format: "B  2 ranks × 1 thread, batch 1 each: %.2f s per global step; B/A %.3f, the median of "
                 + "the rounds' ratios (target ≤ 1.1)", stepB, ratio))
print(String(format: "   gradients %.1f MB per step in %.0f buckets; all-reduce %.3f s = %.1f %% of the step, "
                 + "%.1f %% of it hidden behind the backward passes (%.3f s exposed, backward %.2f s); "
                 + "batch-norm, loss and stop collectives %.3f s", gradientBytes / 1e6, buckets, allreduce,
             100 * allreduce / stepB, 100 * max(0, 1 - exposed / max(allreduce, 1e-9)), exposed, backward,
             synchronization))
print(String(format: "C  1 process × 2 threads, batch 1: %.2f s per step (one node's compute at batch 1)", compute))

// MARK: Cluster prediction

var random = RandomSource(seed: 0)
let discriminatorBytes = Double(try Discriminator(configuration, using: &random).parameterCount * 4)
let bucketBytes = 25.0 * 1024 * 1024, latency = 20e-6, trainingImages = 29_000.0, epochs = 100.0
let backwardShare = backward / stepB
let normLayers = Double(configuration.generator.blocks.reduce(0) {
    $0 + ($1.inputChannels == $1.outputChannels ? 2 : 3)
})
// Per step: each CG-Norm's two forward sums in the G step and in the D step's fake, one backward.
let smallCollectives = 5 * normLayers + 2
func ring(_ bytes: Double, nodes: Double, bandwidth: Double) -> Double {
    let messages = max(1, (bytes / bucketBytes).rounded(.up))
    return 2 * (nodes - 1) / nodes * bytes / bandwidth + messages * 2 * (nodes - 1) * latency
}
print("\nPredicted for DeepFashion (\(Int(trainingImages)) images, \(Int(epochs)) epochs), one rank of 2 cores "
      + "per node at batch 1 (global batch = nodes):")
print("| nodes | link | all-reduce per step | not hidden | step | efficiency | steps | days |")
print("|---|---|---|---|---|---|---|---|")
let singleSteps = epochs * trainingImages
print(String(format: "| 1 | — | — | — | %.1f s | 100 %% | %.0f | %.0f |", compute, singleSteps,
             singleSteps * compute / 86400))
for nodes in [8.0, 64, 256] {
    for gigabits in [10.0, 25, 100] {
        let bandwidth = gigabits * 1e9 / 8
        let generatorBytes = gradientBytes - discriminatorBytes
        let total = ring(generatorBytes, nodes: nodes, bandwidth: bandwidth)
            + ring(discriminatorBytes, nodes: nodes, bandwidth: bandwidth)
        let lastBucket = ring(min(bucketBytes, generatorBytes), nodes: nodes, bandwidth: bandwidth)
        let hiddenWindow = backwardShare * compute
        let notHidden = max(lastBucket, ring(generatorBytes, nodes: nodes, bandwidth: bandwidth) - hiddenWindow)
            + ring(discriminatorBytes, nodes: nodes, bandwidth: bandwidth)
            + smallCollectives * 2 * log2(nodes) * latency
        let step = compute + notHidden
        let totalSteps = epochs * (trainingImages / nodes).rounded(.down)
        print(String(format: "| %.0f | %.0f Gb/s | %.2f s | %.2f s | %.1f s | %.0f %% | %.0f | %.1f |", nodes,
                     gigabits, total, notHidden, step, 100 * compute / step, totalSteps, totalSteps * step / 86400))
    }
}
