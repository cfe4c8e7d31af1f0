// SPADE-style modulation as one operation, for the memory of the backward pass:
//   y = x̂ · (1 + γ) + β,   γ = conv(h, Wγ) + bγ,   β = conv(h, Wβ) + bβ   (one geometry).
//
// Composed of separate operations (two convolutions, +1, a product, a sum), the graph keeps
// 1 + γ, a tensor as large as x̂, until the backward pass: dx̂ = dy · (1 + γ). This operation
// keeps only x̂ and h, which the graph holds anyway (the batch norm's backward reads x̂, h is
// the input of both convolutions), and computes γ again during the backward pass: one more
// convolution of h, the cheaper of the two halves of the work, for one tensor less per
// modulation. In GroupDNet's generator at 256 × 256 that is 84 MB per sample at each of the
// last block's two input-width norms. β is never needed again (∂y/∂β = 1).
//
// The values are those of the composed operations, bit for bit: β + x̂·(1 + γ) is the same
// float sum as x̂·(1 + γ) + β, and γ is recomputed by the same kernels from the same data.

extension Tensor {
    /// `normalized · (1 + conv(hidden, gammaWeight) + gammaBias) + conv(hidden, betaWeight) + betaBias`,
    /// both convolutions with stride 1, `padding` and `groups`, as GroupDNet's CG-Norm (and
    /// SPADE) modulate a normalised activation. Equal to composing ``conv2d(weight:bias:stride:padding:groups:)``,
    /// ``adding(_:)``, `*` and `+`, with the same gradients, but the backward pass keeps
    /// neither γ nor β: it recomputes γ from `hidden` (see the top of this file).
    ///
    /// Throws when the convolutions' output is not the shape of `normalized`, or the two
    /// weights (or biases) differ in shape.
    public static func modulation(
        normalized: Tensor, hidden: Tensor, gammaWeight: Tensor, gammaBias: Tensor?,
        betaWeight: Tensor, betaBias: Tensor?, padding: Int, groups: Int
    ) throws -> Tensor {
        let g = try ConvolutionGeometry(
            input: hidden, weight: gammaWeight, bias: gammaBias, stride: 1, padding: padding, groups: groups)
        let outputShape = [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        guard betaWeight.shape == gammaWeight.shape, betaBias?.shape == gammaBias?.shape,
            normalized.shape == outputShape
        else {
            throw TensorError.shapeMismatch(
                operation: "modulation",
                reason: "x̂ \(normalized.label) must be the convolutions' output \(outputShape); β's weight "
                    + "\(betaWeight.label) must match γ's \(gammaWeight.label), and likewise the biases")
        }
        let count = normalized.count
        let y = withReadPointer(hidden.data) { hp in
            let gamma = convolved(g, hp, gammaWeight.data, gammaBias?.data)
            return withReadPointer(normalized.data) { xp in
                withReadPointer(gamma) { gp in
                    makeFilledArray(count) { yp in
                        withReadPointer(betaWeight.data) { convolutionForward(g, x: hp, weight: $0, y: yp) }
                        if let betaBias { withReadPointer(betaBias.data) { addBias(g, bias: $0, y: yp) } }
                        elementwiseChunks(count) { range in
                            for i in range { yp[i] += xp[i] * (gp[i] + 1) }
                        }
                    }
                }
            }
        }
        let output = Tensor(uncheckedShape: outputShape, data: y)
        let step = ModulationBackward(
            geometry: g, normalized: normalized, hidden: hidden, gammaWeight: gammaWeight, gammaBias: gammaBias,
            betaWeight: betaWeight, betaBias: betaBias)
        let inputs = [normalized, hidden, gammaWeight, betaWeight] + [gammaBias, betaBias].compactMap { $0 }
        record(output, inputs: inputs) { step.run($0) }
        return output
    }
}

/// conv(x, weight) + bias into a new array.
private func convolved(
    _ g: ConvolutionGeometry, _ x: UnsafePointer<Float>, _ weight: [Float], _ bias: [Float]?
) -> [Float] {
    makeFilledArray(g.batch * g.outputChannels * g.outputPlane) { yp in
        withReadPointer(weight) { convolutionForward(g, x: x, weight: $0, y: yp) }
        if let bias { withReadPointer(bias) { addBias(g, bias: $0, y: yp) } }
    }
}

/// The backward step of ``Tensor/modulation(normalized:hidden:gammaWeight:gammaBias:betaWeight:betaBias:padding:groups:)``,
/// holding only what it reads: x̂, h and the weights as the forward pass used them (a parameter's
/// array is shared with the model until an optimiser writes it, so this costs no copy).
private struct ModulationBackward {
    let geometry: ConvolutionGeometry
    let normalizedData: [Float], hiddenData: [Float]
    let gammaWeight: [Float], gammaBias: [Float]?, betaWeight: [Float]
    let normalizedNode, hiddenNode, gammaWeightNode, betaWeightNode: GradientNode
    let gammaBiasNode, betaBiasNode: GradientNode?

    init(
        geometry: ConvolutionGeometry, normalized: Tensor, hidden: Tensor, gammaWeight: Tensor, gammaBias: Tensor?,
        betaWeight: Tensor, betaBias: Tensor?
    ) {
        self.geometry = geometry
        (normalizedData, hiddenData) = (normalized.data, hidden.data)
        (self.gammaWeight, self.gammaBias, self.betaWeight) = (gammaWeight.data, gammaBias?.data, betaWeight.data)
        (normalizedNode, hiddenNode) = (normalized.node, hidden.node)
        (gammaWeightNode, betaWeightNode) = (gammaWeight.node, betaWeight.node)
        (gammaBiasNode, betaBiasNode) = (gammaBias?.node, betaBias?.node)
    }

    func run(_ output: GradientNode) {
        let g = geometry
        withReadPointer(hiddenData) { hp in
            // β's half reads dy as it is: ∂y/∂β = 1.
            output.withOutputGradient { dy in
                convolutionGradients(dy, weight: betaWeight, betaWeightNode, betaBiasNode, h: hp)
            }
            // One pass turns γ, recomputed, into dγ = dy·x̂ and dy into dx̂ = dy·(1 + γ) (in dy's
            // own buffer when x̂ has no gradient yet, else added to it).
            var gammaGradient = convolved(g, hp, gammaWeight, gammaBias)
            withWritePointer(&gammaGradient) { gp in
                withReadPointer(normalizedData) { xp in
                    let moved = output.moveGradient(to: normalizedNode) { dy in
                        elementwiseChunks(g.batch * g.outputChannels * g.outputPlane) { range in
                            for i in range { (dy[i], gp[i]) = (dy[i] * (gp[i] + 1), dy[i] * xp[i]) }
                        }
                    }
                    if moved { return }
                    output.withOutputGradient { dy in
                        let dx = normalizedNode.requiresGrad ? normalizedNode : nil
                        dx?.accumulateGradientPointer { dxp in
                            elementwiseChunks(g.batch * g.outputChannels * g.outputPlane) { range in
                                for i in range { dxp[i] += dy[i] * (gp[i] + 1) }
                            }
                        }
                        elementwiseChunks(g.batch * g.outputChannels * g.outputPlane) { range in
                            for i in range { gp[i] = dy[i] * xp[i] }
                        }
                    }
                }
                convolutionGradients(gp, weight: gammaWeight, gammaWeightNode, gammaBiasNode, h: hp)
            }
        }
    }

    /// The bias's, the weight's and h's gradients of one of the two convolutions, given the
    /// gradient of its output.
    private func convolutionGradients(
        _ dy: UnsafePointer<Float>, weight: [Float], _ weightNode: GradientNode, _ biasNode: GradientNode?,
        h: UnsafePointer<Float>
    ) {
        let g = geometry
        biasNode?.accumulateGradientPointer { biasGradient(g, dy: dy, dBias: $0) }
        withReadPointer(weight) { wp in
            weightNode.withOptionalGradient { dw in
                hiddenNode.withOptionalGradient { dh in
                    convolutionBackward(g, x: h, weight: wp, dy: dy, dWeight: dw, dx: dh)
                }
            }
        }
    }
}
