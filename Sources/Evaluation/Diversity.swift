import ImageIO
import Tensor

// The diversity metrics of the SMIS paper's Table 1, for which no public code exists; the
// definitions here are the toolkit's, written out in the README:
//   - LPIPS diversity: the mean LPIPS between images generated from one label map with
//     different full latent codes z, over pairs, then over label maps;
//   - CSD (class-specific diversity) of class c on one label map: K images generated resampling
//     only class c's latent code; the mean LPIPS over all K(K−1)/2 pairs, restricted to c's
//     region; OCD (other-classes diversity): the same pairs restricted to everything else.
//     mCSD and mOCD average each class's CSD / OCD over the label maps that contain it, then
//     average over classes. mCSD should be high (the class changes), mOCD low (nothing else does).

/// How a class region restricts LPIPS.
public enum RegionRestriction: String, CaseIterable, Sendable {
    /// Both photos are set to 0 (mid-grey in LPIPS' [-1, 1] input) outside the region, then
    /// compared by ordinary LPIPS. Photos that agree on the region are at distance exactly 0.
    case maskImages = "mask-images"
    /// The lpips package's spatial distance map (spatial=True) is averaged over the region's
    /// pixels only, instead of over the whole image. Every pixel's value still sees its
    /// network's receptive field, so changes just outside the region count a little.
    case maskAverage = "mask-average"
}

/// Images generated from one label map resampling only one class's latent code.
public struct ClassResamples {
    public let classIndex: Int
    /// H × W, row-major: true where the label map has this class.
    public let region: [Bool]
    /// K ≥ 2 photos of the label map's size.
    public let images: [Image]

    public init(classIndex: Int, region: [Bool], images: [Image]) {
        (self.classIndex, self.region, self.images) = (classIndex, region, images)
    }
}

/// CSD and OCD of one ``ClassResamples``.
public struct ClassDiversity: Equatable, Sendable {
    public let classIndex: Int
    public let inside: Double, outside: Double
}

public enum DiversityMetrics {
    /// The mean LPIPS over all unordered pairs of `images` (one size, at least two).
    public static func meanPairwiseDistance(_ images: [Image], network: LPIPS) throws -> Double {
        try requirePairs(images)
        let features = try network.features(batchTensor(images, scale: 1 / 127.5, shift: -1))
        return meanOverPairs(images.count) { Double(network.distance(features, $0, features, $1)) }
    }

    /// CSD (inside the region) and OCD (outside it) of one set of resamples.
    public static func classDiversity(
        _ samples: ClassResamples, network: LPIPS, restriction: RegionRestriction
    ) throws -> ClassDiversity {
        try requirePairs(samples.images)
        let first = samples.images[0]
        guard samples.region.count == first.width * first.height else {
            throw EvaluationError.invalidInput(
                reason: "a region of \(samples.region.count) pixels for \(first.width)×\(first.height) photos")
        }
        let photos = try batchTensor(samples.images, scale: 1 / 127.5, shift: -1)
        let outsideRegion = samples.region.map { !$0 }
        switch restriction {
        case .maskImages:
            let (inside, outside) = try (masked(photos, samples.region), masked(photos, outsideRegion))
            let (insideFeatures, outsideFeatures) = try (network.features(inside), network.features(outside))
            let count = samples.images.count
            return ClassDiversity(
                classIndex: samples.classIndex,
                inside: meanOverPairs(count) { Double(network.distance(insideFeatures, $0, insideFeatures, $1)) },
                outside: meanOverPairs(count) { Double(network.distance(outsideFeatures, $0, outsideFeatures, $1)) })
        case .maskAverage:
            let features = try network.features(photos)
            var (inside, outside) = (0.0, 0.0)
            var pairs = 0
            for i in 0..<samples.images.count {
                for j in i + 1..<samples.images.count {
                    let map = try network.distanceMap(features, i, features, j)
                    inside += maskedMean(map, samples.region)
                    outside += maskedMean(map, outsideRegion)
                    pairs += 1
                }
            }
            return ClassDiversity(
                classIndex: samples.classIndex, inside: inside / Double(pairs), outside: outside / Double(pairs))
        }
    }

    /// mCSD and mOCD: each class's mean over the label maps it appears in, then the mean over
    /// classes (so a class in every map counts as much as one in a single map).
    public static func meanOverClasses(_ diversities: [ClassDiversity]) -> (mcsd: Double, mocd: Double) {
        let byClass = Dictionary(grouping: diversities, by: \.classIndex)
        guard !byClass.isEmpty else { return (.nan, .nan) }
        var (csd, ocd) = (0.0, 0.0)
        for values in byClass.values {
            csd += values.reduce(0) { $0 + $1.inside } / Double(values.count)
            ocd += values.reduce(0) { $0 + $1.outside } / Double(values.count)
        }
        return (csd / Double(byClass.count), ocd / Double(byClass.count))
    }

    /// The photos with every pixel outside `region` set to 0 in all three channels.
    static func masked(_ photos: Tensor, _ region: [Bool]) throws -> Tensor {
        let plane = region.count
        var data = photos.data
        for planeIndex in 0..<data.count / plane {
            for position in 0..<plane where !region[position] { data[planeIndex * plane + position] = 0 }
        }
        return try Tensor(shape: photos.shape, data: data)
    }

    /// The mean of `map` over the positions where `region` is true (0 for an empty region).
    static func maskedMean(_ map: [Float], _ region: [Bool]) -> Double {
        var (total, count) = (0.0, 0)
        for (value, inside) in zip(map, region) where inside { total += Double(value); count += 1 }
        return count == 0 ? 0 : total / Double(count)
    }

    private static func meanOverPairs(_ count: Int, _ distance: (Int, Int) -> Double) -> Double {
        var (total, pairs) = (0.0, 0)
        for i in 0..<count { for j in i + 1..<count { total += distance(i, j); pairs += 1 } }
        return total / Double(pairs)
    }

    private static func requirePairs(_ images: [Image]) throws {
        guard images.count >= 2 else {
            throw EvaluationError.insufficientData(reason: "diversity needs at least two images, got \(images.count)")
        }
    }
}
