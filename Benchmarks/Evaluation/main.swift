import BenchmarkSupport
import Evaluation
import Foundation
import Tensor

// bench-evaluation [--threads N] [--batch B] [--repeats R] [--side S]
// Images per second of pytorch-fid's Inception (with its resize to 299) and of LPIPS pairs,
// here and in PyTorch on the same thread count, the same batch and the same random weights
// (Benchmarks/Evaluation/pytorch_throughput.py, run in .cache/evaluation-venv, which
// scripts/setup-evaluation-reference makes). Each side reports its best of R passes after a
// warm-up. The ratio is ours / PyTorch's: the issue's target is ≥ 1.0.

func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
        let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}

let threads = option("--threads", 2), batch = option("--batch", 8), repeats = option("--repeats", 3)
let side = option("--side", 256)
TensorThreads.count = threads
let python = ".cache/evaluation-venv/bin/python"
guard FileManager.default.isExecutableFile(atPath: python) else {
    print("bench-evaluation: \(python) is missing; run scripts/setup-evaluation-reference from the repository root")
    exit(1)
}
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-evaluation-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

let process = Process()
process.executableURL = URL(fileURLWithPath: python)
process.arguments = [
    "Benchmarks/Evaluation/pytorch_throughput.py", folder.path, "\(threads)", "\(batch)", "\(repeats)", "\(side)"
]
let pipe = Pipe()
process.standardOutput = pipe
try process.run()
let printed = pipe.fileHandleForReading.readDataToEndOfFile()
process.waitUntilExit()
guard process.terminationStatus == 0,
    let pytorch = try JSONSerialization.jsonObject(with: printed) as? [String: Any],
    let pytorchInception = pytorch["inception"] as? Double, let pytorchLPIPS = pytorch["lpips"] as? Double
else {
    print("bench-evaluation: the PyTorch side failed: \(String(decoding: printed, as: UTF8.self))")
    exit(1)
}

/// The best wall time of `repeats` runs after one warm-up.
func best(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var fastest = Double.infinity
    for _ in 0..<repeats { fastest = min(fastest, try measure(body).wall) }
    return fastest
}

var random = RandomSource(seed: 1)
let count = batch * 3 * side * side
let images = try Tensor(
    shape: [batch, 3, side, side], data: (0..<count).map { _ in Float.random(in: 0...1, using: &random) })
let others = try Tensor(
    shape: [batch, 3, side, side], data: (0..<count).map { _ in Float.random(in: -1...1, using: &random) })
let network = try FIDInception(contentsOf: folder.appendingPathComponent("inception.safetensors"))
let lpips = try LPIPS(contentsOf: folder.appendingPathComponent("lpips.safetensors"))
let inceptionRate = Double(batch) / (try best { _ = try network.features(images) })
let scaled = images.affine(scale: 2, shift: -1)
let lpipsRate = Double(batch) / (try best { _ = try lpips.distances(scaled, others) })

print(
    "bench-evaluation: \(threads) thread(s), batch \(batch), \(side)×\(side), best of \(repeats); "
        + "PyTorch \(pytorch["torch"] ?? "?")"
)
print(
    String(
        format: "Inception (FID): %.2f images/s, PyTorch %.2f: %.2f×", inceptionRate, pytorchInception,
        inceptionRate / pytorchInception))
print(
    String(
        format: "LPIPS (AlexNet): %.2f pairs/s, PyTorch %.2f: %.2f×", lpipsRate, pytorchLPIPS,
        lpipsRate / pytorchLPIPS)
)
