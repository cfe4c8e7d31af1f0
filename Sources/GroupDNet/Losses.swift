import Tensor

/// The loss terms of GroupDNet (SPADE's hinge `GANLoss`, feature matching and `KLDLoss`),
/// composed from Tensor primitives so their gradients come from the tape. Discriminator
/// outputs are `[scale][layer]`, the last layer being the patch prediction.
public enum GroupDNetLoss {
    /// The discriminator's hinge loss: over scales, the mean of mean(relu(1 + D(fake))), plus
    /// the mean of mean(relu(1 − D(real))).
    public static func discriminator(fake: [[Tensor]], real: [[Tensor]]) throws -> Tensor {
        try discriminatorHinge(fake, isReal: false) + discriminatorHinge(real, isReal: true)
    }

    /// One side of the discriminator's hinge loss, averaged over scales: mean(relu(1 − x)) for
    /// real outputs, mean(relu(1 + x)) for fake ones.
    public static func discriminatorHinge(_ outputs: [[Tensor]], isReal: Bool) throws -> Tensor {
        try averageOverScales(outputs) { $0.hingeDiscriminatorLoss(isReal: isReal) }
    }

    /// The generator's adversarial loss: −mean(D(fake)) averaged over scales.
    public static func generatorAdversarial(fake: [[Tensor]]) throws -> Tensor {
        try averageOverScales(fake) { $0.hingeGeneratorLoss() }
    }

    /// Feature matching: for each scale and each layer but the last, L1(fake feature, real
    /// feature) divided by the number of scales, summed (unweighted; GroupDNet weighs it 10).
    /// The real features are treated as constants.
    public static func featureMatching(fake: [[Tensor]], real: [[Tensor]]) throws -> Tensor {
        guard fake.count == real.count, !fake.isEmpty else {
            throw GroupDNetError.invalidInput(
                reason: "feature matching needs the same non-zero number of scales, got \(fake.count) and \(real.count)"
            )
        }
        var total: Tensor?
        for (fakeLayers, realLayers) in zip(fake, real) {
            for (fakeFeature, realFeature) in zip(fakeLayers.dropLast(), realLayers.dropLast()) {
                let term = try Tensor.l1Loss(fakeFeature, realFeature.detached()).scaled(by: 1 / Float(fake.count))
                total = try total.map { try $0 + term } ?? term
            }
        }
        guard let total else {
            throw GroupDNetError.invalidInput(reason: "feature matching needs at least two layers per scale")
        }
        return total
    }

    /// KLD = −0.5 · Σ(1 + logvar − mu² − exp(logvar)), summed over every element of the batch.
    public static func kullbackLeibler(mu: Tensor, logVariance: Tensor) throws -> Tensor {
        try (logVariance.adding(1) - mu * mu - logVariance.exp()).sum().scaled(by: -0.5)
    }

    /// (1/S) Σₛ term(last output of scale s).
    private static func averageOverScales(_ outputs: [[Tensor]], _ term: (Tensor) -> Tensor) throws -> Tensor {
        guard !outputs.isEmpty, outputs.allSatisfy({ !$0.isEmpty }) else {
            throw GroupDNetError.invalidInput(reason: "discriminator outputs are empty")
        }
        var total = term(outputs[0].last!)
        for scale in outputs.dropFirst() { total = try total + term(scale.last!) }
        return total.scaled(by: 1 / Float(outputs.count))
    }
}
