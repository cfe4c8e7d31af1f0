import _TestSupport
import XCTest
@testable import Tensor

/// Compares operations with PyTorch 2.13 results stored in Fixtures/pytorch_reference.json,
/// written once by Fixtures/make_fixtures.py (torch is not needed to run these tests).
final class PyTorchReferenceTests: XCTestCase {
    private struct StoredTensor: Decodable {
        let shape: [Int]
        let data: [Float]
        func tensor(requiresGrad: Bool = false) throws -> Tensor {
            try Tensor(shape: shape, data: data, requiresGrad: requiresGrad)
        }
    }

    private struct Case: Decodable {
        let inputs: [StoredTensor]
        let projection: StoredTensor?
        let output: StoredTensor
        let gradients: [StoredTensor]
        let running_mean: StoredTensor?
        let running_var: StoredTensor?
        let u_before: StoredTensor?
        let v_before: StoredTensor?
        let u_after: StoredTensor?
        let v_after: StoredTensor?
    }

    private struct Reference: Decodable {
        let torch_version: String
        let cases: [String: Case]
    }

    private static let reference: Result<Reference, Error> = Result {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pytorch_reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// PyTorch and this library sum in different orders: float32 rounding differences only.
    private let tolerance = Tolerance(absolute: 2e-5, relative: 2e-4)

    /// Runs `operation` on the case's inputs and compares the output and the gradients of sum(y ⊙ R).
    private func compare(
        _ name: String, file: StaticString = #filePath, line: UInt = #line,
        _ operation: ([Tensor]) throws -> Tensor
    ) throws -> Case {
        let stored = try XCTUnwrap(try Self.reference.get().cases[name], "no case \(name)")
        let inputs = try stored.inputs.map { try $0.tensor(requiresGrad: true) }
        let output = try operation(inputs)
        XCTAssertEqual(output.shape, stored.output.shape, "\(name) shape", file: file, line: line)
        assertClose(output.data, stored.output.data, tolerance, "\(name) output", file: file, line: line)
        let projection = try XCTUnwrap(stored.projection).tensor()
        try (output * projection).sum().backward()
        for (index, expected) in stored.gradients.enumerated() {
            assertClose(
                inputs[index].grad ?? [], expected.data, tolerance, "\(name) gradient \(index)", file: file, line: line)
        }
        return stored
    }

    func testConvolutions() throws {
        _ = try compare("conv_groups2_stride2") {
            try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, groups: 2)
        }
        _ = try compare("conv_k4_s2_p2") { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 2) }
    }

    func testNorms() throws {
        _ = try compare("instance_norm") { try $0[0].instanceNorm() }
        let statistics = BatchNormStatistics(channels: 3)
        let stored = try compare("batch_norm_train") { try $0[0].batchNorm(statistics: statistics, training: true) }
        assertClose(statistics.runningMean.data, try XCTUnwrap(stored.running_mean).data, tolerance, "running_mean")
        assertClose(statistics.runningVariance.data, try XCTUnwrap(stored.running_var).data, tolerance, "running_var")
    }

    func testResampling() throws {
        _ = try compare("resize_nearest_7x3_to_3x5") { try $0[0].resizeNearest(height: 3, width: 5) }
        _ = try compare("upsample_nearest_2x") { try $0[0].upsampleNearest2x() }
        _ = try compare("average_pool_k3_s2_p1") { try $0[0].averagePool2d(kernelSize: 3, stride: 2, padding: 1) }
    }

    func testSpectralNormTrainingForward() throws {
        let stored = try XCTUnwrap(try Self.reference.get().cases["spectral_norm_train"])
        var source = RandomSource(seed: 0)
        let norm = try SpectralNorm(weightShape: stored.inputs[0].shape, using: &source)
        norm.u.data = try XCTUnwrap(stored.u_before).data
        norm.v.data = try XCTUnwrap(stored.v_before).data
        _ = try compare("spectral_norm_train") { try norm.normalizedWeight($0[0], training: true) }
        assertClose(norm.u.data, try XCTUnwrap(stored.u_after).data, tolerance, "weight_u after one iteration")
        assertClose(norm.v.data, try XCTUnwrap(stored.v_after).data, tolerance, "weight_v after one iteration")
    }

    func testAdamThreeSteps() throws {
        let stored = try XCTUnwrap(try Self.reference.get().cases["adam_betas_0_0.9"])
        let parameter = try stored.inputs[0].tensor(requiresGrad: true)
        parameter.name = "p"
        let adam = Adam(learningRate: 1e-2, beta1: 0, beta2: 0.9, epsilon: 1e-8)
        for gradient in stored.gradients {
            parameter.grad = gradient.data
            try adam.step([parameter])
        }
        assertClose(
            parameter.data, stored.output.data, Tolerance(absolute: 1e-6, relative: 1e-5), "after three Adam steps")
    }
}
