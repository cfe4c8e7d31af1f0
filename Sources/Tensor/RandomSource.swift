import SeededRandom
import Foundation

/// A seeded, reproducible random number generator: xoshiro256** (Blackman & Vigna, 2018)
/// with its 256-bit state filled from the seed by SplitMix64, as its authors recommend.
///
/// The same seed gives the same 64-bit stream on every machine and build (no global state, no
/// system entropy), and the same Gaussians wherever the C library's `log` is the same.
/// Gaussian samples use Marsaglia's polar method (see `normal()`); both values of each pair
/// are used. Use one source per purpose (initialisation, z, data order) so that changing one
/// does not shift the others.
public struct RandomSource: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Float?

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = SplitMix64(seed: seed)
        state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
    }

    /// The generator of one stream of `seed`: `keys` name the stream (what it is for, the
    /// index of the sample it serves, …), and every distinct key list gives an independent
    /// stream. Lets a run draw, say, sample 4711's noise from (seed, noise, 4711) alone, with no
    /// generator state to save, whatever order, batch or process the sample is drawn in.
    ///
    /// The keys are folded into the seed one by one through SplitMix64's finaliser (a
    /// bijection that spreads every bit), so nearby keys give unrelated streams; with no keys
    /// this is `init(seed:)`.
    public init(seed: UInt64, keys: UInt64...) {
        var folded = seed
        for key in keys { folded = SplitMix64.finalize(folded ^ SplitMix64.finalize(key &+ 0x9E37_79B9_7F4A_7C15)) }
        self.init(seed: folded)
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform value in (0, 1], from 53 random bits.
    public mutating func uniformOpenClosed() -> Double {
        (Double(next() >> 11) + 1) * 0x1p-53
    }

    /// A standard normal sample (mean 0, standard deviation 1), by Marsaglia's polar method in
    /// Double: a point (u, v) uniform in the unit disc (rejecting the 21% outside it) gives two
    /// independent samples u·f and v·f with f = √(−2 ln s / s), s = u² + v². One logarithm per
    /// two samples and no trigonometry: about three times faster than Box–Muller.
    public mutating func normal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * uniformOpenClosed() - 1, v = 2 * uniformOpenClosed() - 1
            let s = u * u + v * v
            guard s > 0, s < 1 else { continue }
            let factor = (-2 * log(s) / s).squareRoot()
            spareNormal = Float(v * factor)
            return Float(u * factor)
        }
    }

    /// `count` standard normal samples.
    public mutating func normals(_ count: Int) -> [Float] {
        (0..<count).map { _ in normal() }
    }

    private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }
}

extension Tensor {
    /// A tensor of standard normal samples drawn from `source` in row-major order.
    public static func randomNormal(_ shape: [Int], using source: inout RandomSource,
                                    requiresGrad: Bool = false, name: String = "") -> Tensor {
        Tensor(uncheckedShape: shape, data: source.normals(shape.reduce(1, *)),
               requiresGrad: requiresGrad, name: name)
    }
}
