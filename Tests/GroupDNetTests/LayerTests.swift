import Foundation
import _TestSupport
import GroupDNet
import Tensor
import XCTest

/// Argument checks, the split image's edge cases, the loss formulas, and finite-difference
/// gradient checks of the composites this target builds (CG-Norm, CG-Block, reparameterisation,
/// KLD, feature matching). Values against PyTorch are in ReferenceTests.
final class LayerTests: XCTestCase {
    // MARK: Arguments

    func testLayerArgumentsAreCheckedWithMessages() {
        var random = RandomSource(seed: 1)
        XCTAssertThrowsError(
            try Convolution(
                "up_1.conv_0", inputChannels: 12, outputChannels: 8, kernelSize: 3, padding: 1,
                groups: 8, bias: true, spectralNorm: true, using: &random)
        ) {
            XCTAssertEqual(
                "\($0)",
                "up_1.conv_0: invalid configuration: groups 8 must divide input channels 12 and output channels 8")
        }
        XCTAssertThrowsError(
            try ConditionalGroupNorm(
                "head_0.norm_0", channels: 64, labelChannels: 8, hiddenChannels: 12, groups: 8,
                using: &random)
        ) {
            XCTAssertEqual(
                "\($0)",
                "head_0.norm_0: invalid configuration: groups 8 must divide label channels 8, hidden 12 and channels 64"
            )
        }
        var configuration = GroupDNetConfiguration.tiny
        configuration.encoder.layerCount = 6
        XCTAssertThrowsError(try Generator(configuration, using: &random)) {
            XCTAssertEqual(
                "\($0)",
                "configuration: invalid configuration: the generator upsamples the 1×1 latent grid ×32, not to 64×64")
        }
        configuration = .tiny
        configuration.generator.blocks[3].inputChannels = 32
        XCTAssertThrowsError(try Generator(configuration, using: &random)) {
            XCTAssertEqual("\($0)", "up_0: invalid configuration: takes 32 channels but G_middle_1 gives 64")
        }
    }

    func testPresetsFollowTheReferenceCropRule() throws {
        XCTAssertEqual(GroupDNetConfiguration.deepFashion.encoder.layerCount, 6)
        XCTAssertEqual(GroupDNetConfiguration.deepFashion.latentShape(batch: 1), [1, 64, 4, 4])
        XCTAssertEqual(GroupDNetConfiguration.deepFashion.generator.blocks.map(\.groups), [8, 8, 4, 4, 2, 2, 1])
        XCTAssertEqual(GroupDNetConfiguration.tiny.encoder.layerCount, 5, "no layer6 below crop 256")
        XCTAssertEqual(GroupDNetConfiguration.tiny.latentShape(batch: 2), [2, 64, 2, 2])
        XCTAssertNoThrow(try GroupDNetConfiguration.deepFashion.validate())
        XCTAssertNoThrow(try GroupDNetConfiguration.tiny.validate())
    }

    func testInputsWithTheWrongShapeAreRejected() throws {
        var random = RandomSource(seed: 1)
        let generator = try Generator(.tiny, using: &random)
        let seg = Tensor.zeros([1, 8, 64, 64])
        XCTAssertThrowsError(try generator(seg: seg, z: Tensor.zeros([1, 64, 4, 4]), training: false)) {
            XCTAssertEqual("\($0)", "invalid input: z must be [1, 64, 2, 2], got [1, 64, 4, 4]")
        }
        XCTAssertThrowsError(
            try generator(seg: Tensor.zeros([1, 7, 64, 64]), z: Tensor.zeros([1, 64, 2, 2]), training: false))
    }

    // MARK: Inputs

    func testOneHotAndImageConversion() throws {
        let seg = try ModelInput.oneHot(labels: [0, 2, 1, 2], batch: 1, height: 2, width: 2, classes: 3)
        XCTAssertEqual(seg.data, [1, 0, 0, 0, /**/ 0, 0, 1, 0, /**/ 0, 1, 0, 1])
        XCTAssertThrowsError(try ModelInput.oneHot(labels: [0, 3], batch: 1, height: 1, width: 2, classes: 3)) {
            XCTAssertEqual("\($0)", "invalid input: sample 0, pixel (0, 1): class 3 ≥ 3")
        }
        let image = try ModelInput.image(rgb: [0, 255, 51, 127, 128, 255], batch: 1, height: 1, width: 2)
        let scaled: (Float) -> Float = { $0 / 127.5 - 1 }
        XCTAssertEqual(image.data, [-1, scaled(127), 1, scaled(128), scaled(51), 1])
    }

    func testSplitImageCropsToTheMaskBoxAndZeroesAbsentClasses() throws {
        // 4×4, two classes: class 0 is the 2×2 block at rows 1–2, columns 2–3; class 1 the rest.
        // Class 2 is absent. The image is black (0 after scaling would be −1; use exact zeros
        // in one pixel to show the box comes from the mask, not from non-zero colours).
        var labels = [UInt8](repeating: 1, count: 16)
        for (y, x) in [(1, 2), (1, 3), (2, 2), (2, 3)] { labels[y * 4 + x] = 0 }
        let seg = try ModelInput.oneHot(labels: labels, batch: 1, height: 4, width: 4, classes: 3)
        var values = (0..<48).map { Float($0) / 10 }
        for channel in 0..<3 { values[channel * 16 + 1 * 4 + 2] = 0 }  // pixel (1, 2): RGB all zero
        let image = try Tensor(shape: [1, 3, 4, 4], data: values)
        let split = try SplitImage.make(seg: seg, image: image)
        XCTAssertEqual(split.shape, [1, 9, 4, 4])
        // Class 0, red channel: the 2×2 crop [[0, 0.7], [1.0, 1.1]] scaled ×2 by nearest.
        XCTAssertEqual(
            Array(split.data[0..<16]), [0, 0, 0.7, 0.7, 0, 0, 0.7, 0.7, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.1, 1.1])
        XCTAssertEqual(
            SplitImage.boundingBox(of: seg.data[0..<16], height: 4, width: 4),
            SplitImage.Box(top: 1, bottom: 2, left: 2, right: 3), "the all-zero pixel (1, 2) is inside the box")
        // Class 1 covers the whole image: its box is the full frame, so the block is image × mask.
        XCTAssertEqual(Array(split.data[48..<64]), (0..<16).map { labels[$0] == 1 ? values[$0] : 0 })
        XCTAssertEqual(Array(split.data[96...]), [Float](repeating: 0, count: 48), "absent class gives zeros")
    }

    func testNearestIndicesFollowPyTorch() {
        // F.interpolate(size=7) from 3: floor(i * 3/7) = [0, 0, 0, 1, 1, 2, 2]; from 5 to 2: [0, 2].
        let seg = try! Tensor(shape: [1, 1, 1, 3], data: [1, 1, 1])
        let image = try! Tensor(shape: [1, 3, 1, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Array(try SplitImage.make(seg: seg, image: image).data[0..<3]), [1, 2, 3])
    }

    func testResamplingOneClassChangesOnlyItsLatentChannels() throws {
        var random = RandomSource(seed: 3)
        let configuration = GroupDNetConfiguration.tiny
        let z = Tensor.randomNormal(configuration.latentShape(batch: 2), using: &random)
        let edited = try configuration.resamplingClass(3, of: z, using: &random)
        let plane = 4
        for sample in 0..<2 {
            for channel in 0..<64 {
                let range = (sample * 64 + channel) * plane..<(sample * 64 + channel + 1) * plane
                if (24..<32).contains(channel) {
                    XCTAssertNotEqual(
                        Array(edited.data[range]), Array(z.data[range]), "class 3 channel \(channel) kept")
                } else {
                    XCTAssertEqual(Array(edited.data[range]), Array(z.data[range]), "channel \(channel) changed")
                }
            }
        }
        XCTAssertThrowsError(try configuration.resamplingClass(8, of: z, using: &random))
    }

    // MARK: Losses

    func testKullbackLeiblerAndHingeValues() throws {
        let mu = try Tensor(shape: [2], data: [1, -2]), logVariance = try Tensor(shape: [2], data: [0, log(2)])
        // −0.5 · [(1 + 0 − 1 − 1) + (1 + ln2 − 4 − 2)] = 0.5 · (1 + 5 − ln 2)
        XCTAssertEqual(
            try GroupDNetLoss.kullbackLeibler(mu: mu, logVariance: logVariance).scalarValue, 0.5 * (6 - log(2)),
            accuracy: 1e-5)
        let fake = [[Tensor.zeros([1]), try Tensor(shape: [2], data: [0.5, -3])], [try Tensor(shape: [1], data: [2])]]
        let real = [[Tensor.zeros([1]), try Tensor(shape: [2], data: [0.5, 2])], [try Tensor(shape: [1], data: [-1])]]
        // fake: scale 0 mean(relu(1 + x)) = (1.5 + 0)/2, scale 1: 3 → 1.875; real: (0.5 + 0)/2, 2 → 1.125
        XCTAssertEqual(
            try GroupDNetLoss.discriminator(fake: fake, real: real).scalarValue, 1.875 + 1.125, accuracy: 1e-6)
        XCTAssertEqual(try GroupDNetLoss.generatorAdversarial(fake: fake).scalarValue, -(-1.25 + 2) / 2, accuracy: 1e-6)
        // Feature matching skips each scale's last output: only scale 0's first layer, |0 − 0| → 0.
        XCTAssertEqual(try GroupDNetLoss.featureMatching(fake: fake, real: real).scalarValue, 0)
    }

    // MARK: Gradients by finite differences (evaluation mode: deterministic state)

    func testConditionalGroupBlockGradientsMatchFiniteDifferences() throws {
        var random = RandomSource(seed: 11)
        let layout = GeneratorBlockLayout(
            name: "block", inputChannels: 8, outputChannels: 4, groups: 2, upsampleBefore: false)
        let block = try ConditionalGroupBlock(layout, labelChannels: 4, normHiddenChannels: 4, using: &random)
        for parameter in block.parameters { parameter.data = parameter.data.map { _ in random.normal() * 0.5 } }
        for norm in [block.norm0, block.norm1, block.shortcutNorm!] {
            norm.statistics.runningMean.data = norm.statistics.runningMean.data.map { _ in random.normal() * 0.3 }
            norm.statistics.runningVariance.data = norm.statistics.runningVariance.data.map { _ in
                0.5 + abs(random.normal())
            }
        }
        let x = Tensor.randomNormal([2, 8, 4, 4], using: &random, requiresGrad: true)
        let labels = (0..<32).map { _ in UInt8(random.next() % 4) }
        let seg = try ModelInput.oneHot(labels: labels, batch: 2, height: 4, width: 4, classes: 4)
        try checkGradients(
            [x] + block.parameters, step: 1e-3, tolerance: layerTolerance, maximumProbes: 6,
            acceptOneSided: true
        ) { _ in try block(x, seg: seg, training: false) }
    }

    func testReparameterisationKullbackLeiblerAndFeatureMatchingGradients() throws {
        var random = RandomSource(seed: 12)
        let mu = Tensor.randomNormal([1, 2, 2, 2], using: &random, requiresGrad: true)
        let logVariance = Tensor.randomNormal([1, 2, 2, 2], using: &random, requiresGrad: true)
        let epsilon = Tensor.randomNormal([1, 2, 2, 2], using: &random)
        let realFeature = Tensor.randomNormal([1, 2, 2, 2], using: &random)
        try checkGradients(
            [mu, logVariance], step: 1e-3, tolerance: layerTolerance, maximumProbes: 6,
            acceptOneSided: true
        ) { _ in
            let z = try Encoder.reparameterize(mu: mu, logVariance: logVariance, epsilon: epsilon)
            let matching = try GroupDNetLoss.featureMatching(fake: [[z, z]], real: [[realFeature, realFeature]])
            return try GroupDNetLoss.kullbackLeibler(mu: mu, logVariance: logVariance) + matching.scaled(by: 3)
                + z.sum()
        }
    }

    /// Finite differences through whole layers: step 1e-3 (the layers' Float32 rounding
    /// decides it, not the op's), 1e-2 + 1e-2·|g|, which is within the 2e-2·max(1, |g|) these
    /// checks used when they had their own helper.
    private let layerTolerance = Tolerance(absolute: 1e-2, relative: 1e-2)
}
