import Foundation
import GroupDNet
import Tensor
import XCTest
import _TestSupport

@testable import Evaluation

/// pytorch-fid's Inception and FID against pytorch-fid itself (Fixtures/make_fid_reference.py,
/// random weights), and the network's shape on random weights.
final class FIDInceptionTests: TemporaryFolderTestCase {
    func testFeaturesAndFIDMatchPytorchFID() throws {
        let printed = try ReferencePython.run(
            "make_fid_reference.py", arguments: [TestPaths.repositoryRoot.path, folder.path], requiring: "pytorch_fid")
        let expectedFID = try XCTUnwrap(Double(printed.trimmingCharacters(in: .whitespacesAndNewlines)), printed)
        let network = try FIDInception(contentsOf: folder.appendingPathComponent("weights.safetensors"))
        let reference = try SafeTensors.read(from: folder.appendingPathComponent("reference.safetensors"))
        let real = try network.features(
            ofImagesAt: ImageFolder.imagePaths(in: folder.appendingPathComponent("real")), batchSize: 4)
        assertClose(real, try reference.floats("features.real"), Tolerance(ofScale: 1e-4), "pool3 features of real/")
        let realStatistics = try network.statistics(ofFolder: folder.appendingPathComponent("real"))
        let fakeStatistics = try network.statistics(ofFolder: folder.appendingPathComponent("fake"))
        XCTAssertEqual(realStatistics.count, 6)
        let fid = try FrechetDistance.distance(realStatistics, fakeStatistics)
        XCTAssertGreaterThan(expectedFID, 0)
        print("  FID \(fid) against pytorch-fid's \(expectedFID): relative \(abs(fid - expectedFID) / expectedFID)")
        XCTAssertEqual(fid, expectedFID, accuracy: 1e-3 * expectedFID, "FID against pytorch-fid's \(expectedFID)")
    }

    func testRandomNetworkGives2048FiniteFeaturesAtAnyInputSize() throws {
        let url = folder.appendingPathComponent("inception.safetensors")
        let shapes = FIDInception.weightShapes
        // 94 BasicConv2d layers of five tensors each (conv weight and four batch-norm vectors).
        XCTAssertEqual(shapes.count, 94 * 5)
        XCTAssertEqual(shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"], [384, 384, 3, 1])
        XCTAssertEqual(shapes["Mixed_6e.branch7x7_2.conv.weight"], [192, 192, 1, 7])
        try writeRandomWeights(shapes, to: url, seed: 5) { $0.hasSuffix("running_var") }
        let network = try FIDInception(contentsOf: url)
        var random = RandomSource(seed: 9)
        let images = try Tensor(
            shape: [2, 3, 20, 33], data: (0..<(2 * 3 * 20 * 33)).map { _ in Float.random(in: 0...1, using: &random) })
        let features = try network.features(images)
        XCTAssertEqual(features.count, 2 * 2048)
        XCTAssertTrue(features.allSatisfy(\.isFinite))
        XCTAssertNotEqual(Array(features[0..<2048]), Array(features[2048...]), "two images, two feature vectors")
    }

    func testBilinearResizeIsPyTorchsAlignCornersFalse() throws {
        // F.interpolate(torch.tensor([[[[0., 1., 2.]]]]), size=(1, 5), mode='bilinear',
        // align_corners=False) = [0, 0.4, 1, 1.6, 2]; upsampling 2 → 4 gives [0, .25, .75, 1] · d.
        let row = try Tensor(shape: [1, 1, 1, 3], data: [0, 1, 2]).resizedBilinear(height: 1, width: 5)
        assertClose(row.data, [0, 0.4, 1, 1.6, 2], .forward, "3 → 5")
        let column = try Tensor(shape: [1, 1, 2, 1], data: [0, 4]).resizedBilinear(height: 4, width: 1)
        assertClose(column.data, [0, 1, 3, 4], .forward, "2 → 4")
        let pooled = try Tensor(shape: [1, 1, 2, 2], data: [-5, -1, -3, -2]).maxPooled(
            kernelSize: 3, stride: 1, padding: 1)
        XCTAssertEqual(pooled.data, [-1, -1, -1, -1], "padding never wins a max pool")
    }
}
