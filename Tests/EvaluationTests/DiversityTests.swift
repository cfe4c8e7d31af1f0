import Foundation
import ImageIO
import Tensor
import XCTest
import _TestSupport

@testable import Evaluation

/// mCSD, mOCD and LPIPS diversity on constructed photos whose answers are known: resamples that
/// differ only inside a class region, only outside it, or not at all.
final class DiversityTests: TemporaryFolderTestCase {
    let (width, height) = (48, 40)
    /// The class region: a rectangle in the middle.
    var region: [Bool] { (0..<width * height).map { (12..<30).contains($0 % width) && (8..<28).contains($0 / width) } }

    func testResamplesDifferingOnlyInsideTheRegionHaveZeroOCDWhenImagesAreMasked() throws {
        let network = try randomNetwork()
        let samples = ClassResamples(classIndex: 3, region: region, images: try variants(changing: region))
        let diversity = try DiversityMetrics.classDiversity(samples, network: network, restriction: .maskImages)
        XCTAssertEqual(diversity.outside, 0, "nothing changed outside the region")
        XCTAssertGreaterThan(diversity.inside, 0.01)
        XCTAssertEqual(diversity.classIndex, 3)
    }

    func testResamplesDifferingOnlyOutsideTheRegionHaveZeroCSDWhenImagesAreMasked() throws {
        let network = try randomNetwork()
        let samples = ClassResamples(classIndex: 1, region: region, images: try variants(changing: region.map { !$0 }))
        let diversity = try DiversityMetrics.classDiversity(samples, network: network, restriction: .maskImages)
        XCTAssertEqual(diversity.inside, 0, "nothing changed inside the region")
        XCTAssertGreaterThan(diversity.outside, 0.01)
    }

    func testMaskedAverageIsZeroForIdenticalImagesAndFavoursTheChangedSide() throws {
        let network = try randomNetwork()
        let same = try variants(changing: region)[0]
        let identical = try DiversityMetrics.classDiversity(
            ClassResamples(classIndex: 0, region: region, images: [same, same]), network: network,
            restriction: .maskAverage)
        XCTAssertEqual(identical, ClassDiversity(classIndex: 0, inside: 0, outside: 0))
        let changedInside = try DiversityMetrics.classDiversity(
            ClassResamples(classIndex: 0, region: region, images: variants(changing: region)), network: network,
            restriction: .maskAverage)
        // The receptive fields reach across the border, so the outside is not exactly 0 here.
        XCTAssertGreaterThan(changedInside.inside, 2 * changedInside.outside)
        // The masked average over the whole image is the mean of the spatial map.
        let features = try network.features(batchTensor(variants(changing: region), scale: 1 / 127.5, shift: -1))
        let map = try network.distanceMap(features, 0, features, 1)
        let everywhere = DiversityMetrics.maskedMean(map, [Bool](repeating: true, count: map.count))
        XCTAssertEqual(everywhere, Double(map.reduce(0, +)) / Double(map.count), accuracy: 1e-6)
    }

    func testMeansOverPairsAndClasses() throws {
        let network = try randomNetwork()
        let photos = try variants(changing: region)
        let d = Double(try network.distance(photos: photos[0], photos[1]))
        // Pairs (a, a), (a, b), (a, b): two of three at distance d.
        let mean = try DiversityMetrics.meanPairwiseDistance([photos[0], photos[0], photos[1]], network: network)
        XCTAssertEqual(mean, 2 * d / 3, accuracy: 1e-6 * d)
        XCTAssertThrowsError(try DiversityMetrics.meanPairwiseDistance([photos[0]], network: network))
        // Class 1 on two maps (CSD .2 and .4, OCD .1 and .3) and class 2 on one: class means
        // (.3, .2) and (.6, 0), so mCSD = .45 and mOCD = .1, not the pooled .4 and .133.
        let (mcsd, mocd) = DiversityMetrics.meanOverClasses([
            ClassDiversity(classIndex: 1, inside: 0.2, outside: 0.1),
            ClassDiversity(classIndex: 1, inside: 0.4, outside: 0.3),
            ClassDiversity(classIndex: 2, inside: 0.6, outside: 0)
        ])
        XCTAssertEqual(mcsd, 0.45, accuracy: 1e-12)
        XCTAssertEqual(mocd, 0.1, accuracy: 1e-12)
    }

    /// Three photos that share a random base and differ, at random, where `changing` is true.
    private func variants(changing: [Bool]) throws -> [Image] {
        var random = RandomSource(seed: 21)
        let base = (0..<width * height * 3).map { _ in UInt8.random(in: 0...255, using: &random) }
        return (0..<3).map { _ in
            var pixels = base
            for pixel in 0..<width * height where changing[pixel] {
                for channel in 0..<3 { pixels[3 * pixel + channel] = UInt8.random(in: 0...255, using: &random) }
            }
            return Image(width: width, height: height, pixels: pixels)
        }
    }

    private func randomNetwork() throws -> LPIPS {
        let url = folder.appendingPathComponent("lpips.safetensors")
        try writeRandomWeights(LPIPS.weightShapes, to: url, seed: 2)
        return try LPIPS(contentsOf: url)
    }
}
