import _TestSupport
import XCTest
@testable import Tensor

final class OptimisationTests: XCTestCase {
    func testAdamMatchesPyTorchUpdateByHand() throws {
        let parameter = try Tensor(shape: [2], data: [1, -2], requiresGrad: true, name: "p")
        let adam = Adam(learningRate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 1e-8)
        var m = [0.0, 0.0], v = [0.0, 0.0], p = [1.0, -2.0]
        let gradients: [[Float]] = [[0.5, -1], [0.25, 2], [-1, 0.5]]
        for (t, g) in gradients.enumerated() {
            parameter.grad = g
            try adam.step([parameter])
            for i in 0..<2 {
                m[i] = 0.5 * m[i] + 0.5 * Double(g[i])
                v[i] = 0.9 * v[i] + 0.1 * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(0.5, Double(t + 1))), vHat = v[i] / (1 - pow(0.9, Double(t + 1)))
                p[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
            }
            assertClose(parameter.data, p.map(Float.init), Tolerance(absolute: 1e-6, relative: 1e-6), "step \(t + 1)")
        }
        XCTAssertEqual(adam.states["p"]?.step, 3)
    }

    func testAdamSkipsParametersWithoutGradientAndRejectsDuplicateNames() throws {
        let a = try Tensor(shape: [1], data: [1], requiresGrad: true, name: "a")
        let adam = Adam(learningRate: 0.1)
        try adam.step([a])
        XCTAssertEqual(a.data, [1])
        XCTAssertNil(adam.states["a"])
        let b = try Tensor(shape: [1], data: [1], requiresGrad: true, name: "a")
        XCTAssertThrowsError(try adam.step([a, b]))
    }

    func testConstantThenLinearDecayFollowsSPADE() {
        let schedule = LearningRateSchedule.constantThenLinearDecay(base: 2e-4, constantEpochs: 60, decayEpochs: 40)
        XCTAssertEqual(schedule.rate(epoch: 1), 2e-4)
        XCTAssertEqual(schedule.rate(epoch: 61), 2e-4)
        XCTAssertEqual(schedule.rate(epoch: 62), 2e-4 * 39 / 40, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(epoch: 100), 2e-4 / 40, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(epoch: 101), 0)
        XCTAssertEqual(schedule.rate(epoch: 500), 0)
    }

    func testXavierNormalDeviationFollowsConvolutionFans() throws {
        var source = RandomSource(seed: 60)
        let weight = try Tensor.xavierNormal([64, 16, 3, 3], gain: 0.02, using: &source, name: "w")
        let expected = 0.02 * (2.0 / Double(16 * 9 + 64 * 9)).squareRoot()
        let mean = weight.data.reduce(0.0) { $0 + Double($1) } / Double(weight.count)
        let deviation =
            (weight.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(weight.count))
            .squareRoot()
        XCTAssertEqual(deviation, expected, accuracy: expected * 0.03)  // 9,216 samples: ~0.7 % standard error
        XCTAssertTrue(weight.requiresGrad)
        XCTAssertThrowsError(try Tensor.xavierNormal([5], gain: 1, using: &source))
    }
}

final class CoreTests: XCTestCase {
    func testRandomSourceIsReproducibleAndGaussian() {
        var a = RandomSource(seed: 7), b = RandomSource(seed: 7), c = RandomSource(seed: 8)
        let samplesA = a.normals(20_000), samplesB = b.normals(20_000)
        XCTAssertEqual(samplesA, samplesB)
        XCTAssertNotEqual(samplesA.prefix(10).map { $0 }, c.normals(10))
        let mean = samplesA.reduce(0.0) { $0 + Double($1) } / 20_000
        let variance = samplesA.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 20_000
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.04)
    }

    /// Keyed streams: the same keys give the same stream, any other key list (order too) an
    /// unrelated one; pinned by hand, so that a change that would move
    /// every run's flips and noise shows.
    func testKeyedStreamsAreReproducibleAndDistinct() {
        func first(_ source: RandomSource) -> UInt64 { var copy = source; return copy.next() }
        XCTAssertEqual(first(RandomSource(seed: 3, keys: 1, 4711)), first(RandomSource(seed: 3, keys: 1, 4711)))
        let streams = [
            RandomSource(seed: 3), RandomSource(seed: 3, keys: 1, 4711), RandomSource(seed: 3, keys: 4711, 1),
            RandomSource(seed: 3, keys: 1, 4712), RandomSource(seed: 3, keys: 2, 4711),
            RandomSource(seed: 4, keys: 1, 4711)
        ]
        XCTAssertEqual(Set(streams.map(first)).count, streams.count)
        // SplitMix64's finaliser of (seed ^ finaliser(key + golden ratio)), key by key, by hand.
        func final(_ value: UInt64) -> UInt64 {
            var z = value
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let folded = final(final(3 ^ final(1 &+ 0x9E37_79B9_7F4A_7C15)) ^ final(4711 &+ 0x9E37_79B9_7F4A_7C15))
        XCTAssertEqual(first(RandomSource(seed: 3, keys: 1, 4711)), first(RandomSource(seed: folded)))
    }

    func testFirstOutputsOfSeedZeroArePinned() {
        // Golden values: a change of generator or seeding would silently change every run.
        // 0x99EC5F36CB75F2B4 is xoshiro256**'s first output after SplitMix64(0) seeding,
        // checked against an independent Python transcription of the reference C code.
        var source = RandomSource(seed: 0)
        XCTAssertEqual(source.next(), 0x99EC_5F36_CB75_F2B4)
        var gaussian = RandomSource(seed: 0)
        let first = gaussian.normals(2)
        // Polar method by hand from the same stream.
        var bits = RandomSource(seed: 0)
        var u = 0.0, v = 0.0, s = 0.0
        repeat {
            u = 2 * bits.uniformOpenClosed() - 1
            v = 2 * bits.uniformOpenClosed() - 1
            s = u * u + v * v
        } while !(s > 0 && s < 1)
        let factor = (-2 * Foundation.log(s) / s).squareRoot()
        XCTAssertEqual(first, [Float(u * factor), Float(v * factor)])
    }

    func testNoGradientModeRecordsNothingAndRestores() throws {
        let x = randomInput([2, 3], seed: 70)
        let y = Tensor.withoutGradients { x.relu() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertFalse(Tensor.isRecordingGradients == false)
        XCTAssertThrowsError(try y.sum().backward())
        XCTAssertTrue(x.relu().requiresGrad)
    }

    func testGradientsAccumulateUntilZeroed() throws {
        let x = try Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        try x.scaled(by: 3).sum().backward()
        try x.scaled(by: 3).sum().backward()
        XCTAssertEqual(x.grad, [6, 6])
        x.zeroGradient()
        XCTAssertNil(x.grad)
    }

    func testSharedIntermediateReceivesBothGradients() throws {
        // y = h·h + h with h = 2x: dy/dx = (2h + 1)·2.
        let x = try Tensor(shape: [1], data: [1.5], requiresGrad: true)
        let h = x.scaled(by: 2)
        try (h * h + h).sum().backward()
        XCTAssertEqual(x.grad, [(2 * 3 + 1) * 2])
    }

    func testAddPassesGradientThroughWithoutAliasing() throws {
        // x + x: the pass-through shares dy with x.grad, and the second term must not write into
        // the output's gradient buffer (copy-on-write). Then x + y with x.grad already present.
        let x = try Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        try (x + x).scaled(by: 2).sum().backward()
        XCTAssertEqual(x.grad, [4, 4, 4])
        let y = try Tensor(shape: [3], data: [0, 0, 0], requiresGrad: true)
        try (x + y).sum().backward()
        XCTAssertEqual(x.grad, [5, 5, 5])
        XCTAssertEqual(y.grad, [1, 1, 1])
        try (y - x).sum().backward()
        XCTAssertEqual(y.grad, [2, 2, 2])
        XCTAssertEqual(x.grad, [4, 4, 4])
    }

    func testBackwardFromAGivenOutputGradient() throws {
        let x = try Tensor(shape: [1, 1, 1, 2], data: [1, -1], requiresGrad: true)
        let y = x.leakyRelu(negativeSlope: 0.5)
        try y.backward(gradient: [3, 4])
        XCTAssertEqual(x.grad, [3, 2])
        XCTAssertThrowsError(try x.relu().backward(gradient: [1]))
    }

    func testInitRejectsWrongCount() {
        XCTAssertThrowsError(try Tensor(shape: [2, 3], data: [1, 2])) { error in
            XCTAssertEqual("\(error)", "Tensor.init: invalid argument: shape [2, 3] needs 6 values but 2 were given")
        }
    }
}
