import Foundation

// Which implementation runs each pass of a convolution. Three are at hand: our im2col + sgemm
// (with its exact shortcut for repeated columns, see ConvolutionRepeatedColumns.swift), and
// oneDNN's direct and Winograd kernels (Convolution+OneDNN.swift). The choice is a fixed rule of
// the shape, the pass and the input's structure, never a timing taken at run time, so that the
// same inputs always take the same path and a run is reproducible. The route is chosen by
// `TENSOR_CONVOLUTION` or by setting ``ConvolutionSettings/backend``, so that each can be
// measured against the others: `bench-groupdnet --convolution im2col,direct,winograd,auto`,
// whose figures the README gives ("Convolution routes"). Those are whole-network figures; the
// automatic rule's details (Winograd for 64×64 to 128×128 outputs) are not measured layer by layer.

/// The convolution implementations a process may use.
public enum ConvolutionBackend: String, CaseIterable, Sendable {
    /// The measured rules below: oneDNN where it was faster, im2col's repeated-column path where
    /// the input allows it. The default (im2col alone where oneDNN is missing). Its sums differ
    /// from im2col's in order, so the last bits of a run's weights depend on the route; both
    /// stay within the reference's own spread (README "Convolution routes").
    case automatic = "auto"
    /// im2col + sgemm only (this target's original path; float32 only). Its sums happen to
    /// follow the reference's fixtures most closely.
    case im2col
    /// oneDNN's direct kernels wherever oneDNN has one.
    case direct
    /// oneDNN's Winograd for 3×3 stride-1 convolutions, direct kernels elsewhere.
    case winograd
}

/// Process-wide convolution settings, like ``TensorThreads``: set them once at the start.
public enum ConvolutionSettings {
    nonisolated(unsafe) private static var currentPrecision = ConvolutionPrecision.float32
    /// From `TENSOR_CONVOLUTION` (auto, im2col, direct, winograd), else auto.
    nonisolated(unsafe) public static var backend: ConvolutionBackend =
        ProcessInfo.processInfo.environment["TENSOR_CONVOLUTION"].flatMap(ConvolutionBackend.init) ?? .automatic

    /// Runs `body` on `backend`, then restores the route it found (for tests and benchmarks
    /// that compare routes in one process).
    public static func withBackend<T>(_ backend: ConvolutionBackend, _ body: () throws -> T) rethrows -> T {
        let saved = self.backend
        self.backend = backend
        defer { self.backend = saved }
        return try body()
    }

    /// The precision of the convolutions' products (float32 unless set).
    public static var precision: ConvolutionPrecision { currentPrecision }

    /// Whether this CPU runs bfloat16 convolutions (AVX512-BF16, through oneDNN).
    public static var supportsBFloat16: Bool { OneDNNRuntime.shared != nil && OneDNNRuntime.supportsBFloat16 }

    /// Sets the precision; bfloat16 is refused (and nothing changes) on a CPU without AVX512-BF16.
    public static func setPrecision(_ precision: ConvolutionPrecision) throws {
        if precision == .bfloat16 && !supportsBFloat16 {
            throw TensorError.invalidArgument(
                operation: "precision",
                reason: "bf16 needs a CPU with the AVX512-BF16 instructions (Intel Cooper Lake or Sapphire Rapids, "
                    + "AMD Zen 4 or newer) and oneDNN; this one has none, so train and generate in float32")
        }
        currentPrecision = precision
    }
}

/// How one pass of a convolution runs.
enum ConvolutionPath {
    case im2col
    case oneDNN(OneDNNConvolution)
}

/// The paths of the three passes of one convolution call, chosen when its forward runs.
struct ConvolutionRoute {
    var forward: ConvolutionPath
    var inputGradient: ConvolutionPath
    var weightGradient: ConvolutionPath

    /// The route for geometry `g`; `repeatedColumns` tells whether the input is piecewise
    /// constant enough for the im2col path's shortcut (see ``inputHasRepeatedColumns``).
    static func choose(_ g: ConvolutionGeometry, bias: Bool, repeatedColumns: Bool) -> ConvolutionRoute {
        let precision = ConvolutionSettings.precision
        let backend = ConvolutionSettings.backend
        func plan(_ algorithm: OneDNNAlgorithm) -> ConvolutionPath {
            guard let made = OneDNNConvolution.plan(.init(g, bias: bias, precision: precision, algorithm: algorithm)),
                made.hasBackward
            else { return .im2col }
            return .oneDNN(made)
        }
        let winogradShape = g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1
        switch (backend, precision) {
        case (.im2col, .float32):
            return ConvolutionRoute(forward: .im2col, inputGradient: .im2col, weightGradient: .im2col)
        case (.direct, _), (.im2col, .bfloat16):
            let direct = plan(.direct)
            return ConvolutionRoute(forward: direct, inputGradient: direct, weightGradient: direct)
        case (.winograd, _):
            let chosen = plan(winogradShape ? .winograd : .direct)
            return ConvolutionRoute(forward: chosen, inputGradient: chosen, weightGradient: chosen)
        case (.automatic, _):
            // oneDNN's Winograd is float32 only. In bfloat16 the im2col shortcut for repeated
            // columns (float32, half the products at best) lost to oneDNN's bfloat16 kernels
            // (twice float32's rate): an iteration 8.40 s against 9.00 (bench-groupdnet, batch 1).
            return automatic(
                g, repeatedColumns: repeatedColumns && precision == .float32,
                winogradShape: winogradShape && precision == .float32, plan: plan)
        }
    }

    /// The automatic rule (measured as a whole by bench-groupdnet --convolution; README "Convolution routes").
    private static func automatic(
        _ g: ConvolutionGeometry, repeatedColumns: Bool, winogradShape: Bool,
        plan: (OneDNNAlgorithm) -> ConvolutionPath
    ) -> ConvolutionRoute {
        // Winograd from 64 × 64 outputs (below, its transforms cost more than they save) up to
        // 128 × 128: at 256 × 256 its scratchpads hold the transforms of a whole plane, 190–300
        // MiB per sample at the DeepFashion preset, which put batch 4's peak memory above
        // PyTorch bfloat16's (6.75 against 6.67 GiB; 6.39 with direct kernels there).
        let winograd = winogradShape && (64 * 64...128 * 128).contains(g.outputPlane)
        let dense: ConvolutionPath = winograd ? plan(.winograd) : plan(.direct)
        if repeatedColumns {
            // The shortcut skips most of the forward and weight-gradient products; the input
            // gradient has no repeats (dy varies everywhere).
            return ConvolutionRoute(forward: .im2col, inputGradient: dense, weightGradient: .im2col)
        }
        return ConvolutionRoute(forward: dense, inputGradient: dense, weightGradient: dense)
    }
}

/// Whether sample 0 of x is constant along rows over at least half of its positions in every
/// channel together: then consecutive im2col columns repeat (see ConvolutionRepeatedColumns.swift).
/// Gives up after the first channel on ordinary inputs.
func inputHasRepeatedColumns(_ g: ConvolutionGeometry, x: UnsafePointer<Float>) -> Bool {
    let plane = g.inputPlane
    guard plane >= 64, g.kernelArea > 1 else { return false }
    var differs = [UInt8](repeating: 0, count: plane)
    return differs.withUnsafeMutableBufferPointer { flags in
        let flags = flags.baseAddress!
        for channel in 0..<g.inputChannels {
            let values = x + channel * plane
            for p in 1..<plane { flags[p] |= values[p] != values[p - 1] ? 1 : 0 }
            if channel == 0 || channel % 16 == 15 || channel == g.inputChannels - 1 {
                var differing = 0
                for p in 0..<plane { differing += Int(flags[p]) }
                if differing > plane / 2 { return false }
            }
        }
        return true
    }
}
