// Reductions to a scalar, and the loss terms GroupDNet composes from them.

extension Tensor {
    /// The sum of all elements, as a scalar tensor (16 Float lanes flushed into a Double).
    public func sum() -> Tensor {
        reducedToScalar(scale: 1)
    }

    /// The mean of all elements, as a scalar tensor (summed as `sum()`). The mean of an
    /// empty tensor is NaN, as in PyTorch.
    public func mean() -> Tensor {
        reducedToScalar(scale: 1 / Double(count))
    }

    /// scale · Σx; the backward adds scale·dy to every element of dx.
    private func reducedToScalar(scale: Double) -> Tensor {
        let x = self
        let total = withReadPointer(data) { vectorSum($0, count) }
        let output = Tensor(uncheckedShape: [], data: [Float(total * scale)])
        let xNode = x.node
        Tensor.record(output, inputs: [x]) { y in
            let dxValue = y.grad![0] * Float(scale)
            xNode.accumulateGradientPointer { dx in
                elementwiseChunks(xNode.count) { range in for i in range { dx[i] += dxValue } }
            }
        }
        return output
    }

    // MARK: Losses composed from primitives

    /// mean(|a − b|), PyTorch's `L1Loss()` with mean reduction. Shapes must match.
    public static func l1Loss(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try (a - b).abs().mean()
    }

    /// The discriminator's hinge term: mean(relu(1 − x)) for real inputs, mean(relu(1 + x))
    /// for fake ones (SPADE's `GANLoss` with `hinge`, `for_discriminator=True`).
    public func hingeDiscriminatorLoss(isReal: Bool) -> Tensor {
        (isReal ? scaled(by: -1) : self).adding(1).relu().mean()
    }

    /// The generator's hinge term: −mean(x).
    public func hingeGeneratorLoss() -> Tensor {
        mean().scaled(by: -1)
    }
}
