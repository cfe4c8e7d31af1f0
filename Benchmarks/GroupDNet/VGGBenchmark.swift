import BenchmarkSupport
import GroupDNet
import Tensor

/// The VGG19 perceptual loss at 256×256, batch 1, full widths with random weights: the real
/// image's features without gradients, the fake's with, and the backward pass to the fake.
func benchmarkVGG(repeats: Int, report: (String, Times, Double) -> Void) throws {
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
    var times: Times = []
    for _ in 0..<repeats {
        let fake = Tensor.randomNormal([1, 3, 256, 256], using: &random).tanh()
        fake.requiresGrad = true
        times.append(try measure { try vgg.vggLoss(fake: fake, real: real).backward() })
    }
    report("VGG loss, forward ×2 + backward", times, 3 * forwardFlops)
}
