// SPADE-style modulation as one operation, for the memory of the backward pass:
//   y = x̂ · (1 + γ) + β,   h = relu(conv(m, Ws) + bs),   γ = conv(h, Wγ) + bγ,   β = conv(h, Wβ) + bβ
// with m a label map (one-hot, resized to x̂'s size) and every convolution of stride 1.
//
// Composed of separate operations, the graph keeps h (the input of both convolutions) and
// 1 + γ, a tensor as large as x̂, until the backward pass (dx̂ = dy · (1 + γ)). This operation
// keeps only x̂, which the batch norm before it keeps anyway, and m, which is small; the
// backward pass computes h and γ again. In GroupDNet's generator at 256 × 256 that is 84 MB
// (1 + γ) and 34 MB (h) per sample less at each of the last block's two input-width norms.
// The price is one more convolution h → γ and the cheap m → h (m has a few channels) per
// norm; β is never needed again (∂y/∂β = 1).
//
// The values are those of the composed operations, bit for bit: β + x̂·(1 + γ) is the same
// float sum as x̂·(1 + γ) + β, and h and γ are recomputed by the same kernels from the same data.

/// A convolution's weight and optional bias, for operations that take several.
public struct ConvolutionParameters {
    public let weight: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    var tensors: [Tensor] { [weight] + (bias.map { [$0] } ?? []) }
}

extension Tensor {
    /// `normalized · (1 + γ) + β` with `h = relu(conv(labels, shared))`, `γ = conv(h, gamma)`
    /// and `β = conv(h, beta)` (each with its bias; stride 1, `padding`; `groups` groups for γ and
    /// β, `sharedGroups` for the first, by default the same), as GroupDNet's
    /// CG-Norm (and SPADE) modulate a normalised activation. Equal to composing
    /// ``conv2d(weight:bias:stride:padding:groups:)``, ``relu()``, ``adding(_:)``, `*` and `+`,
    /// with the same gradients, but the backward pass keeps neither h nor γ nor β: it computes h
    /// and γ again (see the top of this file).
    ///
    /// Throws when the shapes do not chain (labels → h → the shape of `normalized`) or γ's and
    /// β's weights (or biases) differ in shape.
    public static func modulation(
        normalized: Tensor, labels: Tensor, shared: ConvolutionParameters, gamma: ConvolutionParameters,
        beta: ConvolutionParameters, padding: Int, groups: Int, sharedGroups: Int? = nil
    ) throws -> Tensor {
        let sharedGeometry = try ConvolutionGeometry(
            input: labels, weight: shared.weight, bias: shared.bias, stride: 1, padding: padding,
            groups: sharedGroups ?? groups)
        let hiddenShape = [
            labels.shape[0], shared.weight.shape[0], sharedGeometry.outputHeight,
            sharedGeometry.outputWidth
        ]
        let g = try ConvolutionGeometry(
            input: Tensor(uncheckedShape: hiddenShape, data: []), weight: gamma.weight, bias: gamma.bias,
            stride: 1, padding: padding, groups: groups)
        let outputShape = [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        guard beta.weight.shape == gamma.weight.shape, beta.bias?.shape == gamma.bias?.shape,
            normalized.shape == outputShape
        else {
            throw TensorError.shapeMismatch(
                operation: "modulation",
                reason: "x̂ \(normalized.label) must be the convolutions' output \(outputShape); β's weight "
                    + "\(beta.weight.label) must match γ's \(gamma.weight.label), and likewise the biases")
        }
        let count = normalized.count
        let hidden = withReadPointer(labels.data) {
            hiddenActivation(sharedGeometry, $0, shared.weight.data, shared.bias?.data)
        }
        // γ first, then y (β, then x̂·(1 + γ) + β), from one pass over h's columns (the same sums
        // as two convolutions). γ is allocated before y, as when the two were separate
        // convolutions: the other order left a hole in the heap that raised a DeepFashion
        // iteration's peak at batch 4 from 6.39 to 6.84 GiB (scripts/bench-memory).
        var gammaValues = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        let y = withReadPointer(hidden) { hp in
            withReadPointer(gamma.weight.data) { gammaWeight in
                withReadPointer(beta.weight.data) { betaWeight in
                    withReadPointer(normalized.data) { xp in
                        withWritePointer(&gammaValues) { gp in
                            makeFilledArray(count) { yp in
                                withOptionalReadPointer(gamma.bias?.data) { gammaBias in
                                    withOptionalReadPointer(beta.bias?.data) { betaBias in
                                        convolutionForward(
                                            g, x: hp, weights: [gammaWeight, betaWeight], biases: [gammaBias, betaBias],
                                            outputs: [gp, yp])
                                    }
                                }
                                elementwiseChunks(count) { range in
                                    for i in range { yp[i] += xp[i] * (gp[i] + 1) }
                                }
                            }
                        }
                    }
                }
            }
        }
        gammaValues = []  // freed here, before the graph holds y
        let output = Tensor(uncheckedShape: outputShape, data: y)
        let step = ModulationBackward(
            sharedGeometry: sharedGeometry, geometry: g, normalized: normalized, labels: labels, shared: shared,
            gamma: gamma, beta: beta)
        let inputs = [normalized, labels] + shared.tensors + gamma.tensors + beta.tensors
        record(output, inputs: inputs) { step.run($0) }
        return output
    }
}

/// conv(x, weight) + bias into a new array.
private func convolved(
    _ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, _ weight: [Float], _ bias: [Float]?
) -> [Float] {
    makeFilledArray(g.batch * g.outputChannels * g.outputPlane) { yp in
        withReadPointer(weight) { wp in
            withOptionalReadPointer(bias) { convolutionForward(g, x: x, weight: wp, bias: $0, y: yp) }
        }
    }
}

/// Calls `body` with a pointer to `values`' storage, or with nil.
private func withOptionalReadPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return withReadPointer(values) { body($0) }
}

/// h = relu(conv(labels, weight) + bias).
private func hiddenActivation(
    _ g: ConvolutionGeometry, _ labels: UnsafePointer<Float>, _ weight: [Float], _ bias: [Float]?
) -> [Float] {
    var hidden = convolved(g, labels, weight, bias)
    let count = hidden.count
    withWritePointer(&hidden) { hp in
        elementwiseChunks(count) { range in for i in range { hp[i] = max(hp[i], 0) } }
    }
    return hidden
}

/// The backward step of ``Tensor/modulation(normalized:labels:shared:gamma:beta:padding:groups:sharedGroups:)``,
/// holding only what it reads: x̂, the label map and the weights as the forward pass used them
/// (a parameter's array is shared with the model until an optimiser writes it: no copy).
private struct ModulationBackward {
    /// labels → h, and h → γ or β.
    let sharedGeometry, geometry: ConvolutionGeometry
    let normalizedData, labelsData: [Float]
    let sharedWeight, gammaWeight, betaWeight: [Float]
    let sharedBias, gammaBias: [Float]?
    let normalizedNode, labelsNode, sharedWeightNode, gammaWeightNode, betaWeightNode: GradientNode
    let sharedBiasNode, gammaBiasNode, betaBiasNode: GradientNode?

    init(
        sharedGeometry: ConvolutionGeometry, geometry: ConvolutionGeometry, normalized: Tensor, labels: Tensor,
        shared: ConvolutionParameters, gamma: ConvolutionParameters, beta: ConvolutionParameters
    ) {
        (self.sharedGeometry, self.geometry) = (sharedGeometry, geometry)
        (normalizedData, labelsData) = (normalized.data, labels.data)
        (sharedWeight, gammaWeight, betaWeight) = (shared.weight.data, gamma.weight.data, beta.weight.data)
        (sharedBias, gammaBias) = (shared.bias?.data, gamma.bias?.data)
        (normalizedNode, labelsNode) = (normalized.node, labels.node)
        (sharedWeightNode, gammaWeightNode, betaWeightNode) = (shared.weight.node, gamma.weight.node, beta.weight.node)
        (sharedBiasNode, gammaBiasNode, betaBiasNode) = (shared.bias?.node, gamma.bias?.node, beta.bias?.node)
    }

    /// Whether anything before h needs a gradient (then dh is computed).
    private var needsHiddenGradient: Bool {
        labelsNode.requiresGrad || sharedWeightNode.requiresGrad || sharedBiasNode?.requiresGrad == true
    }

    func run(_ output: GradientNode) {
        let hidden = withReadPointer(labelsData) { hiddenActivation(sharedGeometry, $0, sharedWeight, sharedBias) }
        // The label map takes no gradient (it never does in GroupDNet): the run-sum path, where
        // the map's runs allow it.
        let runSums =
            needsHiddenGradient && !labelsNode.requiresGrad
            ? withReadPointer(labelsData) {
                ModulationRunSums(shared: sharedGeometry, modulation: geometry, labels: $0)
            }
            : nil
        if var runSums {
            runBySums(output, hidden: hidden, runSums: &runSums)
            return
        }
        var hiddenGradient = needsHiddenGradient ? makeZeroedArray(hidden.count) : []
        withReadPointer(hidden) { hp in
            withWritePointer(&hiddenGradient) { dh in
                let dh = needsHiddenGradient ? dh : nil
                // β's half reads dy as it is: ∂y/∂β = 1.
                output.withOutputGradient { dy in
                    convolutionGradients(geometry, dy, x: hp, weight: betaWeight, betaWeightNode, betaBiasNode, dx: dh)
                }
                var gammaGradient = convolved(geometry, hp, gammaWeight, gammaBias)
                withWritePointer(&gammaGradient) { gp in
                    turnIntoGradients(output, gamma: gp)
                    convolutionGradients(
                        geometry, gp, x: hp, weight: gammaWeight, gammaWeightNode, gammaBiasNode, dx: dh)
                }
                guard let dh else { return }
                // Through the ReLU (h > 0 exactly where its input was), then the shared convolution.
                elementwiseChunks(hidden.count) { range in for i in range where hp[i] <= 0 { dh[i] = 0 } }
                withReadPointer(labelsData) { labels in
                    labelsNode.withOptionalGradient { dLabels in
                        convolutionGradients(
                            sharedGeometry, dh, x: labels, weight: sharedWeight, sharedWeightNode, sharedBiasNode,
                            dx: dLabels)
                    }
                }
            }
        }
    }

    /// As ``run(_:)``, but without dh: the first convolution's gradients come from sums of dy and
    /// dγ over runs of identical label columns (see ModulationRunSums.swift).
    private func runBySums(_ output: GradientNode, hidden: [Float], runSums: inout ModulationRunSums) {
        withReadPointer(hidden) { hp in
            output.withOutputGradient { dy in
                convolutionGradients(geometry, dy, x: hp, weight: betaWeight, betaWeightNode, betaBiasNode, dx: nil)
                runSums.accumulate(outputGradient: dy, weight: betaWeight)
            }
            var gammaGradient = convolved(geometry, hp, gammaWeight, gammaBias)
            withWritePointer(&gammaGradient) { gp in
                turnIntoGradients(output, gamma: gp)
                convolutionGradients(geometry, gp, x: hp, weight: gammaWeight, gammaWeightNode, gammaBiasNode, dx: nil)
                runSums.accumulate(outputGradient: gp, weight: gammaWeight)
            }
            withReadPointer(labelsData) { labels in
                sharedWeightNode.withOptionalGradient { dWeight in
                    if let sharedBiasNode, sharedBiasNode.requiresGrad {
                        sharedBiasNode.accumulateGradientPointer { dBias in
                            runSums.sharedGradients(hidden: hp, labels: labels, dWeight: dWeight, dBias: dBias)
                        }
                    } else {
                        runSums.sharedGradients(hidden: hp, labels: labels, dWeight: dWeight, dBias: nil)
                    }
                }
            }
        }
    }

    /// One pass turns γ, recomputed in `gamma`, into dγ = dy·x̂ there, and dy into dx̂ = dy·(1 + γ):
    /// in dy's own buffer when x̂ has no gradient yet, else added to it.
    private func turnIntoGradients(_ output: GradientNode, gamma gp: UnsafeMutablePointer<Float>) {
        let count = geometry.batch * geometry.outputChannels * geometry.outputPlane
        withReadPointer(normalizedData) { xp in
            let moved = output.moveGradient(to: normalizedNode) { dy in
                elementwiseChunks(count) { range in
                    for i in range { (dy[i], gp[i]) = (dy[i] * (gp[i] + 1), dy[i] * xp[i]) }
                }
            }
            if moved { return }
            output.withOutputGradient { dy in
                if normalizedNode.requiresGrad {
                    normalizedNode.accumulateGradientPointer { dx in
                        elementwiseChunks(count) { range in for i in range { dx[i] += dy[i] * (gp[i] + 1) } }
                    }
                }
                elementwiseChunks(count) { range in for i in range { gp[i] = dy[i] * xp[i] } }
            }
        }
    }

    /// A convolution's bias and weight gradients, and its input's into `dx` when given, from the
    /// gradient of its output.
    private func convolutionGradients(
        _ g: ConvolutionGeometry, _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: [Float],
        _ weightNode: GradientNode, _ biasNode: GradientNode?, dx: UnsafeMutablePointer<Float>?
    ) {
        biasNode?.accumulateGradientPointer { biasGradient(g, dy: dy, dBias: $0) }
        withReadPointer(weight) { wp in
            weightNode.withOptionalGradient { dw in
                convolutionBackward(g, x: x, weight: wp, dy: dy, dWeight: dw, dx: dx)
            }
        }
    }
}
