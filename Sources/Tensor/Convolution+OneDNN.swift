import CDNNL
import Foundation

// Convolutions by oneDNN: forward, gradient of the input (backward-data) and gradient of the
// weight (backward-weights), each a oneDNN primitive on its own blocked layouts, with our plain
// NCHW float32 tensors reordered in and out around it (see OneDNN.swift).
//
// Two algorithms: oneDNN's direct convolution (its JIT kernels, 1.1–1.2× the sgemm rate here),
// and its Winograd F(4×4, 3×3) for 3×3 stride-1 convolutions, which does 4× fewer multiplications
// in the products at the price of transforms and of rounding errors several times those of the
// direct sum (bounded in OneDNNConvolutionTests). oneDNN's Winograd has no groups, so a grouped
// convolution runs as one convolution per group on that group's channels (strided views).
// In bfloat16, the inputs of each product (activations, weights, output gradients) are rounded to
// bfloat16 by the reorders, and the products accumulate in float32 into float32 outputs.

/// The number format of the convolutions' products, process-wide (see ``ConvolutionSettings``).
public enum ConvolutionPrecision: String, CaseIterable, Sendable, Codable {
    /// IEEE float32 throughout (the default, and the reference's numerics).
    case float32
    /// bfloat16 inputs to every convolution product, float32 accumulation and outputs; weights,
    /// gradients and everything outside the convolutions stay float32.
    case bfloat16 = "bf16"
}

/// The oneDNN algorithm of a convolution pass.
enum OneDNNAlgorithm: Hashable {
    case direct
    case winograd
}

/// One convolution shape (and precision and algorithm) as oneDNN runs it, made once and cached.
final class OneDNNConvolution {
    struct Key: Hashable {
        var batch, inputChannels, height, width, outputChannels, kernelHeight, kernelWidth: Int
        var stride, padding, groups: Int
        var bias: Bool
        var precision: ConvolutionPrecision
        var algorithm: OneDNNAlgorithm

        init(_ g: ConvolutionGeometry, bias: Bool, precision: ConvolutionPrecision, algorithm: OneDNNAlgorithm) {
            (batch, inputChannels, height, width) = (g.batch, g.inputChannels, g.height, g.width)
            (outputChannels, kernelHeight, kernelWidth) = (g.outputChannels, g.kernelHeight, g.kernelWidth)
            (stride, padding, groups) = (g.stride, g.padding, g.groups)
            (self.bias, self.precision, self.algorithm) = (bias, precision, algorithm)
        }
    }

    let key: Key
    let runtime: OneDNNRuntime
    /// How many times the primitive runs per call: the groups when it runs group by group
    /// (Winograd), else 1.
    let parts: Int
    /// Channels of one part (the whole convolution, or one group).
    let partInputs, partOutputs: Int
    /// Samples per primitive call: the whole batch, or one sample at a time for large planes,
    /// so that the staged copies and scratchpads (kept in a workspace) are one sample's size
    /// whatever the batch (batched, they took a DeepFashion iteration's peak at batch 4 from
    /// 6.03 GiB on the im2col route to 8.28; one sample per call: 6.75).
    let samplesPerCall: Int
    let forward: OneDNNPrimitive
    private var backwardDataPrimitive: OneDNNPrimitive??
    private var backwardWeightsPrimitive: OneDNNPrimitive??
    /// Our layouts of one part: NCHW input and output (views with the whole tensor's strides),
    /// the weight (Cout × Cin/G × KH × KW, as goihw when the primitive has groups) and the bias.
    let plainSource, plainWeights, plainDestination, plainBias: dnnl_memory_desc_t
    /// Output positions per channel.
    let outputPlane: Int
    private var reorders: [Role: OneDNNReorder] = [:]
    private let lock = NSLock()
    /// The staging buffers and scratchpads of the call in progress (set while `lock` is held).
    private var workspace: OneDNNWorkspace?

    fileprivate enum Role: Hashable {
        case forwardSource, forwardWeights, forwardDestination
        case dataGradient, dataWeights, dataSource
        case weightsSource, weightsGradient, weightsResult

        /// Where its staged copy lives during a call.
        var slot: OneDNNWorkspace.Slot {
            switch self {
            case .forwardSource, .dataGradient, .weightsSource: .firstInput
            case .forwardWeights, .dataWeights, .weightsGradient: .secondInput
            case .forwardDestination, .dataSource, .weightsResult: .output
            }
        }
    }

    /// Planes from this size (64 × 64) run one sample per call.
    static let largePlane = 64 * 64

    // MARK: Cache

    nonisolated(unsafe) private static var cache: [Key: OneDNNConvolution?] = [:]
    private static let cacheLock = NSLock()

    /// The cached plan for `key`, made on first use; nil when oneDNN has no kernel for it.
    static func plan(_ key: Key) -> OneDNNConvolution? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let known = cache[key] { return known }
        let made = OneDNNRuntime.shared.flatMap { OneDNNConvolution(key, runtime: $0) }
        cache[key] = made
        return made
    }

    // MARK: Making the primitives

    private init?(_ key: Key, runtime: OneDNNRuntime) {
        self.key = key
        self.runtime = runtime
        let split = key.algorithm == .winograd && key.groups > 1
        parts = split ? key.groups : 1
        partInputs = key.inputChannels / parts
        partOutputs = key.outputChannels / parts
        let primitiveGroups = split ? 1 : key.groups
        let outputHeight = (key.height + 2 * key.padding - key.kernelHeight) / key.stride + 1
        let outputWidth = (key.width + 2 * key.padding - key.kernelWidth) / key.stride + 1
        samplesPerCall = max(key.height * key.width, outputHeight * outputWidth) >= Self.largePlane ? 1 : key.batch
        let sourceDimensions = [samplesPerCall, partInputs, key.height, key.width]
        let destinationDimensions = [samplesPerCall, partOutputs, outputHeight, outputWidth]
        let weightDimensions =
            primitiveGroups > 1
            ? [
                primitiveGroups, partOutputs / primitiveGroups, partInputs / primitiveGroups, key.kernelHeight,
                key.kernelWidth
            ]
            : [partOutputs, partInputs, key.kernelHeight, key.kernelWidth]
        let inputPlane = key.height * key.width, outputPlane = outputHeight * outputWidth
        guard
            let plainSource = OneDNNMemory.descriptor(
                sourceDimensions, strides: [key.inputChannels * inputPlane, inputPlane, key.width, 1], dnnl_f32),
            let plainDestination = OneDNNMemory.descriptor(
                destinationDimensions, strides: [key.outputChannels * outputPlane, outputPlane, outputWidth, 1],
                dnnl_f32),
            let plainWeights = OneDNNMemory.descriptor(
                weightDimensions, dnnl_f32, primitiveGroups > 1 ? dnnl_goihw : dnnl_oihw),
            let plainBias = OneDNNMemory.descriptor([partOutputs], dnnl_f32, dnnl_x)
        else { return nil }
        (self.plainSource, self.plainWeights, self.plainDestination) = (plainSource, plainWeights, plainDestination)
        self.plainBias = plainBias
        self.outputPlane = outputPlane

        let product = key.precision == .bfloat16 ? dnnl_bf16 : dnnl_f32
        let any = dnnl_format_tag_any
        guard
            var source = OneDNNMemory.descriptor(sourceDimensions, product, any),
            var weights = OneDNNMemory.descriptor(weightDimensions, product, any),
            var destination = OneDNNMemory.descriptor(destinationDimensions, dnnl_f32, any),
            var bias = OneDNNMemory.descriptor([partOutputs], dnnl_f32, dnnl_x)
        else { return nil }
        let (strides, padLeft) = ([Int64(key.stride), Int64(key.stride)], [Int64(key.padding), Int64(key.padding)])
        // oneDNN wants the right padding that makes its output size exact.
        let padRight = [
            Int64((outputHeight - 1) * key.stride + key.kernelHeight - key.height - key.padding),
            Int64((outputWidth - 1) * key.stride + key.kernelWidth - key.width - key.padding)
        ]
        let algorithm = key.algorithm == .winograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        var description = dnnl_convolution_desc_t()
        guard
            withUnsafeMutablePointer(
                to: &bias,
                { biasPointer in
                    dnnl_convolution_forward_desc_init(
                        &description, dnnl_forward_training, algorithm, &source, &weights,
                        key.bias ? biasPointer : nil, &destination, strides, padLeft, padRight)
                }) == dnnl_success,
            let forward = OneDNNPrimitive.make(&description, runtime: runtime)
        else { return nil }
        self.forward = forward
        convolutionTemplate = Template(
            source: source, weights: weights, destination: destination, strides: strides, padLeft: padLeft,
            padRight: padRight, algorithm: algorithm, product: product)
    }

    /// What the backward primitives are made from, kept until they are.
    private struct Template {
        var source, weights, destination: dnnl_memory_desc_t
        var strides, padLeft, padRight: [Int64]
        var algorithm: dnnl_alg_kind_t
        var product: dnnl_data_type_t
    }
    private let convolutionTemplate: Template

    /// The backward-data primitive (made on first use; nil when oneDNN has none).
    private var backwardData: OneDNNPrimitive? {
        if let made = backwardDataPrimitive { return made }
        var t = convolutionTemplate
        var gradientSource = t.source
        gradientSource.data_type = dnnl_f32
        var gradient = t.destination
        gradient.data_type = t.product
        var description = dnnl_convolution_desc_t()
        let made: OneDNNPrimitive? =
            dnnl_convolution_backward_data_desc_init(
                &description, t.algorithm, &gradientSource, &t.weights, &gradient, t.strides, t.padLeft,
                t.padRight) == dnnl_success
            ? OneDNNPrimitive.make(&description, hint: forward, runtime: runtime) : nil
        backwardDataPrimitive = .some(made)
        return made
    }

    /// The backward-weights primitive (made on first use; nil when oneDNN has none).
    private var backwardWeights: OneDNNPrimitive? {
        if let made = backwardWeightsPrimitive { return made }
        var t = convolutionTemplate
        var gradientWeights = t.weights
        gradientWeights.data_type = dnnl_f32
        var gradient = t.destination
        gradient.data_type = t.product
        var description = dnnl_convolution_desc_t()
        let made: OneDNNPrimitive? =
            dnnl_convolution_backward_weights_desc_init(
                &description, t.algorithm, &t.source, &gradientWeights, nil, &gradient, t.strides, t.padLeft,
                t.padRight) == dnnl_success
            ? OneDNNPrimitive.make(&description, hint: forward, runtime: runtime) : nil
        backwardWeightsPrimitive = .some(made)
        return made
    }
}

// MARK: - Running the three passes

// A oneDNN call that fails once its primitive exists (out of memory in a temporary, a broken
// library) is not recoverable halfway through an accumulation: it stops the process, as an
// array allocation that fails does. Whether a primitive exists is checked before any work.

extension OneDNNConvolution {
    /// Whether oneDNN has kernels for the two backward passes of this shape.
    var hasBackward: Bool {
        lock.lock()
        defer { lock.unlock() }
        return backwardData != nil && backwardWeights != nil
    }

    /// y = conv(x, weight) (+ bias); every element of y is written.
    func runForward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>
    ) {
        lock.lock()
        defer { lock.unlock() }
        let primitive = forward
        beginCall()
        defer { endCall() }
        for (sample, part) in calls {
            let offsets = offsets(sample: sample, part: part)
            let source = input(.forwardSource, x + offsets.source, plainSource, primitive.memory(dnnl_query_src_md))
            let weights = input(
                .forwardWeights, weight + offsets.weights, plainWeights, primitive.memory(dnnl_query_weights_md))
            let destination = Output(
                self, .forwardDestination, y + offsets.destination, plainDestination,
                primitive.memory(dnnl_query_dst_md), accumulate: false)
            var arguments = [
                argument(DNNL_ARG_SRC, source), argument(DNNL_ARG_WEIGHTS, weights),
                argument(DNNL_ARG_DST, destination.buffer)
            ]
            let biasBuffer = bias.map { buffer(plainBias, UnsafeMutableRawPointer(mutating: $0 + offsets.bias)) }
            if let biasBuffer { arguments.append(argument(DNNL_ARG_BIAS, biasBuffer)) }
            execute(primitive, arguments, "forward")
            destination.finish()
        }
    }

    /// dx += the gradient of the input for the output gradient dy (needs ``hasBackward``).
    func runBackwardData(dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        runBackward(x: nil, dy: dy, weight: weight, dWeight: nil, dx: dx)
    }

    /// dWeight += the gradient of the weight for input x and output gradient dy (needs ``hasBackward``).
    func runBackwardWeights(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>) {
        runBackward(x: x, dy: dy, weight: nil, dWeight: dWeight, dx: nil)
    }

    /// Both gradients at once (needs ``hasBackward``): dWeight += the weight's gradient (from x and
    /// dy) when dWeight is given, then dx += the input's (from dy and the weight) when dx is. The
    /// output gradient is laid out once for the two passes when they read it in the same layout
    /// (they do for the direct kernels): one reorder of an activation-sized tensor fewer per call.
    func runBackward(
        x: UnsafePointer<Float>?, dy: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
        dWeight: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?
    ) {
        lock.lock()
        defer { lock.unlock() }
        guard let weightsPass = backwardWeights, let dataPass = backwardData else {
            preconditionFailure("oneDNN: no backward kernels")
        }
        beginCall()
        defer { endCall() }
        let sameGradientLayout = OneDNNMemory.equal(
            weightsPass.memory(dnnl_query_diff_dst_md), dataPass.memory(dnnl_query_diff_dst_md))
        for (sample, part) in calls {
            let offsets = offsets(sample: sample, part: part)
            var laidOutGradient: OneDNNBuffer?
            if let dWeight, let x {
                // x in the first slot, dy in the second (kept for the data pass), dW in the output.
                let source = input(
                    .weightsSource, x + offsets.source, plainSource, weightsPass.memory(dnnl_query_src_md))
                let gradient = input(
                    .weightsGradient, dy + offsets.destination, plainDestination,
                    weightsPass.memory(dnnl_query_diff_dst_md))
                let result = Output(
                    self, .weightsResult, dWeight + offsets.weights, plainWeights,
                    weightsPass.memory(dnnl_query_diff_weights_md), accumulate: true)
                execute(
                    weightsPass,
                    [
                        argument(DNNL_ARG_SRC, source), argument(DNNL_ARG_DIFF_DST, gradient),
                        argument(DNNL_ARG_DIFF_WEIGHTS, result.buffer)
                    ], "backward-weights")
                result.finish()
                if sameGradientLayout { laidOutGradient = gradient }
            }
            guard let dx, let weight else { continue }
            // dy stays in (or goes to) the second slot; the weight takes the first (x is done with).
            let gradient =
                laidOutGradient
                ?? input(
                    .dataGradient, dy + offsets.destination, plainDestination,
                    dataPass.memory(dnnl_query_diff_dst_md), slot: .secondInput)
            let weights = input(
                .dataWeights, weight + offsets.weights, plainWeights, dataPass.memory(dnnl_query_weights_md),
                slot: .firstInput)
            let result = Output(
                self, .dataSource, dx + offsets.source, plainSource, dataPass.memory(dnnl_query_diff_src_md),
                accumulate: true)
            execute(
                dataPass,
                [
                    argument(DNNL_ARG_DIFF_DST, gradient), argument(DNNL_ARG_WEIGHTS, weights),
                    argument(DNNL_ARG_DIFF_SRC, result.buffer)
                ], "backward-data")
            result.finish()
        }
    }

    private func beginCall() { workspace = OneDNNWorkspace.acquire() }

    private func endCall() {
        if let workspace { OneDNNWorkspace.release(workspace) }
        workspace = nil
    }

    /// The primitive calls of one pass: each group of samples, each part.
    private var calls: [(sample: Int, part: Int)] {
        stride(from: 0, to: key.batch, by: samplesPerCall).flatMap { sample in (0..<parts).map { (sample, $0) } }
    }

    /// Where the call for samples from `sample` and part `part` starts in the input, output,
    /// weight and bias (elements).
    private func offsets(sample: Int, part: Int) -> (source: Int, destination: Int, weights: Int, bias: Int) {
        let inputPlane = key.height * key.width
        return (
            sample * key.inputChannels * inputPlane + part * partInputs * inputPlane,
            sample * key.outputChannels * outputPlane + part * partOutputs * outputPlane,
            part * partOutputs * partInputs * key.kernelHeight * key.kernelWidth, part * partOutputs
        )
    }

    private func argument(_ index: Int32, _ buffer: OneDNNBuffer) -> dnnl_exec_arg_t {
        dnnl_exec_arg_t(arg: index, memory: buffer.memory)
    }

    /// Runs `primitive` with the call's scratchpad, when it needs one.
    fileprivate func execute(
        _ primitive: OneDNNPrimitive, _ arguments: [dnnl_exec_arg_t], _ what: String,
        scratchpad slot: OneDNNWorkspace.Slot = .scratchpad
    ) {
        let scratchpad = primitive.scratchpad.map { buffer($0, staging(slot, $0)) }
        let all = arguments + (scratchpad.map { [argument(DNNL_ARG_SCRATCHPAD, $0)] } ?? [])
        let succeeded = withExtendedLifetime(scratchpad) { runtime.execute(primitive.primitive, all) }
        guard succeeded else {
            preconditionFailure("oneDNN: the \(what) primitive \(primitive.implementation) failed")
        }
    }

    /// Room in the call's workspace for a buffer laid out as `descriptor`.
    fileprivate func staging(_ slot: OneDNNWorkspace.Slot, _ descriptor: dnnl_memory_desc_t) -> UnsafeMutableRawPointer
    {
        guard let workspace else { preconditionFailure("oneDNN: staging outside a call") }
        return workspace.memory(slot, bytes: OneDNNMemory.size(descriptor))
    }

    /// A memory object over our buffer, or over room in the call's workspace.
    fileprivate func buffer(_ descriptor: dnnl_memory_desc_t, _ pointer: UnsafeMutableRawPointer) -> OneDNNBuffer {
        guard let made = OneDNNBuffer(descriptor, pointer: pointer, runtime: runtime) else {
            preconditionFailure("oneDNN: cannot make a memory object of \(OneDNNMemory.size(descriptor)) bytes")
        }
        return made
    }

    /// The reorder for `role`, made on first use.
    fileprivate func reorder(
        _ role: Role, from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, accumulate: Bool
    ) -> OneDNNReorder {
        if let made = reorders[role] { return made }
        guard let made = OneDNNReorder(from: from, to: to, accumulate: accumulate, runtime: runtime) else {
            preconditionFailure("oneDNN: no reorder for \(role)")
        }
        reorders[role] = made
        return made
    }

    /// A buffer in the primitive's layout holding our plain input: our own buffer when the
    /// layouts agree, else a temporary filled by a reorder.
    private func input(
        _ role: Role, _ pointer: UnsafePointer<Float>, _ plain: dnnl_memory_desc_t, _ wanted: dnnl_memory_desc_t,
        slot: OneDNNWorkspace.Slot? = nil
    ) -> OneDNNBuffer {
        let user = buffer(plain, UnsafeMutableRawPointer(mutating: pointer))
        if OneDNNMemory.equal(plain, wanted) { return user }
        let staged = buffer(wanted, staging(slot ?? role.slot, wanted))
        let reorder = reorder(role, from: plain, to: wanted, accumulate: false)
        execute(
            reorder.primitive, [argument(DNNL_ARG_FROM, user), argument(DNNL_ARG_TO, staged)], "reorder",
            scratchpad: .reorderScratchpad)
        return staged
    }

    /// Where a primitive writes an output that belongs in our plain buffer: our buffer itself
    /// when the layouts agree and nothing is added, else a temporary that `finish()` reorders
    /// into ours (adding to it when `accumulate`).
    fileprivate struct Output {
        let buffer: OneDNNBuffer
        let finish: () -> Void

        init(
            _ convolution: OneDNNConvolution, _ role: Role, _ pointer: UnsafeMutablePointer<Float>,
            _ plain: dnnl_memory_desc_t, _ produced: dnnl_memory_desc_t, accumulate: Bool
        ) {
            let user = convolution.buffer(plain, pointer)
            if !accumulate && OneDNNMemory.equal(plain, produced) {
                (buffer, finish) = (user, {})
                return
            }
            let staged = convolution.buffer(produced, convolution.staging(role.slot, produced))
            let reorder = convolution.reorder(role, from: produced, to: plain, accumulate: accumulate)
            buffer = staged
            finish = {
                convolution.execute(
                    reorder.primitive,
                    [
                        dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: staged.memory),
                        dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: user.memory)
                    ], "reorder", scratchpad: .reorderScratchpad)
            }
        }
    }
}
