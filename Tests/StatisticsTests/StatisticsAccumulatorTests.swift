import SeededRandom
import Foundation
import ImageIO
import XCTest
import _TestSupport

@testable import Statistics

/// Exact figures on hand-made label maps whose areas, boxes and co-occurrences are counted by
/// hand in the comments.
final class StatisticsAccumulatorTests: XCTestCase {
    /// 4×3, values 0, 1, 2 in the table and 5 outside it.
    ///   0 0 1 1
    ///   0 2 2 1
    ///   0 0 0 5
    /// areas: 0 → 6, 1 → 3, 2 → 2, 5 → 1; boxes: 0 → 3×3, 1 → 2×2, 2 → 2×1, 5 → 1×1.
    static let mapA = labelMap([[0, 0, 1, 1], [0, 2, 2, 1], [0, 0, 0, 5]])
    /// 4×3: one pixel of 2 in the corner; 0 → 11 pixels, box 4×3; 2 → 1 pixel, box 1×1.
    static let mapB = labelMap([[2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    /// 2×2 of 1: area 4, box 2×2.
    static let mapC = labelMap([[1, 1], [1, 1]])

    static func labelMap(_ rows: [[UInt8]]) -> LabelMap {
        LabelMap(width: rows[0].count, height: rows.count, values: rows.flatMap { $0 })
    }

    func crafted() -> DatasetStatistics {
        var accumulator = StatisticsAccumulator(classNames: ["zero", "one", "two"])
        accumulator.add(label: Self.mapA, photo: nil, partition: "train")
        accumulator.add(label: Self.mapB, photo: nil, partition: "train")
        accumulator.add(label: Self.mapC, photo: nil, partition: "val")
        return accumulator.finish()
    }

    func testCountsAreasAndShares() {
        let stats = crafted()
        XCTAssertEqual(stats.schemaVersion, 1)
        XCTAssertEqual(stats.labelSet, .target)
        XCTAssertEqual(stats.sampleCount, 3)
        XCTAssertEqual(stats.partitions, ["train": 2, "val": 1])
        XCTAssertEqual(stats.labelPixelCount, 28)
        XCTAssertEqual(stats.samplesWithoutPhoto, 3)
        XCTAssertEqual(
            stats.labelSizes, [SizeCount(width: 4, height: 3, count: 2), SizeCount(width: 2, height: 2, count: 1)])
        XCTAssertEqual(stats.classes.map(\.pixels), [17, 7, 3])
        XCTAssertEqual(stats.classes.map(\.images), [2, 2, 2])
        XCTAssertEqual(stats.classes.map(\.pixelShare), [17.0 / 28, 7.0 / 28, 3.0 / 28])
        XCTAssertEqual(stats.classes.map(\.imageShare), [2.0 / 3, 2.0 / 3, 2.0 / 3])
        XCTAssertEqual(stats.classes.map(\.meanArea), [8.5, 3.5, 1.5])
        XCTAssertEqual(stats.classes.map(\.medianArea), [8.5, 3.5, 1.5])
        // Fractions: 0 → 6/12, 11/12; 1 → 3/12, 4/4; 2 → 1/12, 2/12.
        XCTAssertEqual(stats.classes[0].medianAreaFraction, (0.5 + 11.0 / 12) / 2, accuracy: 1e-15)
        XCTAssertEqual(stats.classes[1].medianAreaFraction, 0.625)
        XCTAssertEqual(stats.classes[2].meanAreaFraction, (1.0 / 12 + 2.0 / 12) / 2, accuracy: 1e-15)
        XCTAssertEqual(stats.valuesOutsideTable, [OutsideValue(value: 5, images: 1, pixels: 1)])
        XCTAssertNil(stats.filterCandidates)
        XCTAssertNil(stats.channels)
    }

    func testBoundingBoxHistograms() {
        let stats = crafted()
        // Bin of w/W with 10 bins is w*10/W, a full-size box clamped into the last bin.
        // 0: widths 3/4 → 7, 4/4 → 9; heights 3/3, 3/3 → 9, 9.
        XCTAssertEqual(stats.classes[0].boundingBoxWidths.counts, [0, 0, 0, 0, 0, 0, 0, 1, 0, 1])
        XCTAssertEqual(stats.classes[0].boundingBoxHeights.counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
        XCTAssertEqual(stats.classes[0].boundingBoxWidths.mean, 0.875)
        // 1: widths 2/4 → 5, 2/2 → 9; heights 2/3 → 6, 2/2 → 9.
        XCTAssertEqual(stats.classes[1].boundingBoxWidths.counts, [0, 0, 0, 0, 0, 1, 0, 0, 0, 1])
        XCTAssertEqual(stats.classes[1].boundingBoxHeights.counts, [0, 0, 0, 0, 0, 0, 1, 0, 0, 1])
        // 2: widths 2/4 → 5, 1/4 → 2; heights 1/3, 1/3 → 3, 3.
        XCTAssertEqual(stats.classes[2].boundingBoxWidths.counts, [0, 0, 1, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(stats.classes[2].boundingBoxHeights.counts, [0, 0, 0, 2, 0, 0, 0, 0, 0, 0])
    }

    func testCooccurrence() {
        // A holds {0, 1, 2}, B {0, 2}, C {1}.
        XCTAssertEqual(crafted().cooccurrence, [[2, 1, 2], [1, 2, 1], [2, 1, 2]])
    }

    func testOddMedianIsTheMiddleValue() {
        var accumulator = StatisticsAccumulator(classNames: ["background", "thing"])
        for area in [5, 1, 3] {
            var values = [UInt8](repeating: 0, count: 10)
            for i in 0..<area { values[i] = 1 }
            accumulator.add(label: LabelMap(width: 10, height: 1, values: values), photo: nil, partition: "train")
        }
        let thing = accumulator.finish().classes[1]
        XCTAssertEqual(thing.medianArea, 3)
        XCTAssertEqual(thing.meanArea, 3)
        XCTAssertEqual(thing.medianAreaFraction, 0.3)
    }

    func testCountedMedianEqualsTheMedianOfTheWrittenOutList() {
        var generator = SplitMix64(seed: 11)
        for length in 0..<40 {
            var counted: [CountedValue] = []
            var value = 0.0
            for _ in 0..<length {
                value += Double(generator.next() % 3 + 1) / 4
                counted.append(CountedValue(value: value, count: Int(generator.next() % 4) + 1))
            }
            let writtenOut = counted.flatMap { Array(repeating: $0.value, count: $0.count) }
            XCTAssertEqual(
                StatisticsAccumulator.median(ofCounted: counted), StatisticsAccumulator.median(ofSorted: writtenOut),
                "\(counted)")
        }
    }

    /// The area state grows with the distinct areas, not with the images: ten thousand images
    /// of three shapes leave three entries, and the figures are those of the three shapes.
    func testRegionStateDoesNotGrowWithRepeatedImages() {
        var accumulator = StatisticsAccumulator(classNames: ["zero", "one", "two"])
        for _ in 0..<10_000 {
            accumulator.add(label: Self.mapA, photo: nil, partition: "train")
            accumulator.add(label: Self.mapB, photo: nil, partition: "train")
            accumulator.add(label: Self.mapC, photo: nil, partition: "val")
        }
        XCTAssertEqual(accumulator.regions[0].areas.count, 2)
        XCTAssertEqual(accumulator.regions[1].areas.count, 2)
        XCTAssertEqual(accumulator.regions[1].boxWidths.count, 2)
        let many = accumulator.finish(), few = crafted()
        XCTAssertEqual(many.classes.map(\.medianArea), few.classes.map(\.medianArea))
        XCTAssertEqual(many.classes.map(\.medianAreaFraction), few.classes.map(\.medianAreaFraction))
        XCTAssertEqual(
            many.classes.map(\.boundingBoxWidths.counts),
            few.classes.map { $0.boundingBoxWidths.counts.map { $0 * 10_000 } })
        for (a, b) in zip(many.classes, few.classes) {
            XCTAssertEqual(a.meanAreaFraction, b.meanAreaFraction, accuracy: 1e-15)
            XCTAssertEqual(a.boundingBoxHeights.mean, b.boundingBoxHeights.mean, accuracy: 1e-15)
        }
    }

    func testRegionsMatchANaiveScan() {
        var generator = SplitMix64(seed: 7)
        for (width, height) in [(29, 17), (8, 8), (1, 5), (64, 3), (33, 1)] {
            // Runs of random length so the eight-byte run search meets every boundary.
            var values: [UInt8] = []
            while values.count < width * height {
                let value = UInt8(generator.next() % 5)
                values += Array(repeating: value, count: Int(generator.next() % 12) + 1)
            }
            let map = LabelMap(width: width, height: height, values: Array(values.prefix(width * height)))
            var found: [LabelRegion] = []
            map.forEachRegion { found.append($0) }
            XCTAssertEqual(found, naiveRegions(map), "\(width)×\(height)")
        }
    }

    func testFilterCandidatesCountImagesAboveEachThreshold() {
        var accumulator = StatisticsAccumulator(labelSet: LabelSet(source: "", classes: [0: "background", 3: "glove"]))
        // 100×100 images holding 0, 50, 150 and 2,000 glove pixels (0 %, 0.5 %, 1.5 %, 20 %).
        for gloves in [0, 50, 150, 2_000] {
            var values = [UInt8](repeating: 0, count: 10_000)
            for i in 0..<gloves { values[i] = 3 }
            accumulator.add(label: LabelMap(width: 100, height: 100, values: values), photo: nil, partition: "all")
        }
        let stats = accumulator.finish()
        XCTAssertEqual(stats.labelSet, .source)
        let candidates = try! XCTUnwrap(stats.filterCandidates)
        XCTAssertEqual(candidates.pixelThresholds, [0, 100, 1_000, 10_000])
        XCTAssertEqual(candidates.fractionThresholds, [0.001, 0.01, 0.05])
        XCTAssertEqual(candidates.classes.map(\.name), ["background", "glove"])
        XCTAssertEqual(candidates.classes[1].dropsAbovePixels, [3, 2, 1, 0])
        XCTAssertEqual(candidates.classes[1].dropsAboveFraction, [3, 2, 1])
        XCTAssertEqual(candidates.classes[0].dropsAbovePixels, [4, 4, 4, 0])
        XCTAssertEqual(stats.classes.map(\.id), [0, 3])
    }

    func testChannelMeansAndDeviations() {
        var accumulator = StatisticsAccumulator(classNames: ["only"])
        let photo = Image(width: 2, height: 1, pixels: [0, 10, 255, 2, 20, 255])
        accumulator.add(label: LabelMap(width: 2, height: 1), photo: photo, partition: "train")
        let channels = try! XCTUnwrap(accumulator.finish().channels)
        XCTAssertEqual(channels.mean, [1, 15, 255])
        XCTAssertEqual(channels.standardDeviation, [1, 5, 0])
        XCTAssertEqual(channels.pixelCount, 2)
    }

    func testVectorChannelSumsMatchAPlainLoop() {
        var generator = SplitMix64(seed: 11)
        for (width, height) in [(37, 23), (16, 1), (5, 1), (256, 256), (1_100, 1_000)] {
            let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let sums = Image(width: width, height: height, pixels: pixels).summary()
            var expectedSums: [UInt64] = [0, 0, 0], expectedSquares: [UInt64] = [0, 0, 0]
            for (i, byte) in pixels.enumerated() {
                expectedSums[i % 3] += UInt64(byte)
                expectedSquares[i % 3] += UInt64(byte) * UInt64(byte)
            }
            XCTAssertEqual([sums.sum.0, sums.sum.1, sums.sum.2], expectedSums, "\(width)×\(height)")
            XCTAssertEqual(
                [sums.sumOfSquares.0, sums.sumOfSquares.1, sums.sumOfSquares.2], expectedSquares, "\(width)×\(height)")
        }
    }

    func testChannelStatisticsStayExactForAlmostConstantPhotos() {
        // 10⁶ pixels of 200 and one of 201: a running Σx² in Float would lose the variance.
        var accumulator = StatisticsAccumulator(classNames: ["only"])
        var pixels = [UInt8](repeating: 200, count: 1_000_000 * 3)
        pixels[0] = 201
        accumulator.add(
            label: LabelMap(width: 1_000, height: 1_000), photo: Image(width: 1_000, height: 1_000, pixels: pixels),
            partition: "train")
        let channels = try! XCTUnwrap(accumulator.finish().channels)
        let n = 1_000_000.0
        let mean = 200 + 1 / n
        XCTAssertEqual(channels.mean[0], mean, accuracy: 1e-12)
        // Population variance of one outlier of +1: (1/n)(1 − 1/n).
        XCTAssertEqual(channels.standardDeviation[0], ((1 / n) * (1 - 1 / n)).squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(channels.standardDeviation[1], 0)
    }

    func testDuplicatePhotosAreGroupedByContent() {
        var accumulator = StatisticsAccumulator(classNames: ["only"])
        let label = LabelMap(width: 2, height: 2)
        let photo = Image(width: 2, height: 2, pixels: Array(1...12))
        var other = photo
        other.pixels[11] = 13
        accumulator.add(label: label, photo: photo, partition: "train", key: "c")
        accumulator.add(label: label, photo: other, partition: "train", key: "b")
        accumulator.add(label: label, photo: photo, partition: "val", key: "a")
        // Same bytes, other shape: not a duplicate.
        accumulator.add(
            label: LabelMap(width: 4, height: 1), photo: Image(width: 4, height: 1, pixels: Array(1...12)),
            partition: "val", key: "d")
        let duplicates = accumulator.finish().duplicates
        XCTAssertEqual(duplicates.groupCount, 1)
        XCTAssertEqual(duplicates.redundantPhotoCount, 1)
        XCTAssertEqual(duplicates.groups.map(\.keys), [["a", "c"]])
        XCTAssertEqual(duplicates.groups[0].hash.count, 16)
    }

    func testPhotoSizesAndMismatches() {
        var accumulator = StatisticsAccumulator(classNames: ["only"])
        accumulator.add(label: LabelMap(width: 2, height: 2), photo: Image(width: 2, height: 2), partition: "train")
        accumulator.add(label: LabelMap(width: 2, height: 2), photo: Image(width: 3, height: 2), partition: "train")
        accumulator.add(label: LabelMap(width: 3, height: 2), photo: Image(width: 3, height: 2), partition: "train")
        let stats = accumulator.finish()
        XCTAssertEqual(
            stats.photoSizes, [SizeCount(width: 3, height: 2, count: 2), SizeCount(width: 2, height: 2, count: 1)])
        XCTAssertEqual(stats.photoLabelSizeMismatches, 1)
        XCTAssertEqual(stats.samplesWithoutPhoto, 0)
    }

    func testMergeEqualsSequentialInAnyOrder() {
        var generator = SplitMix64(seed: 3)
        var sequential = StatisticsAccumulator(
            labelSet: LabelSet(source: "", classes: [0: "background", 1: "hat", 2: "hair", 3: "glove"]))
        var parts = [sequential, sequential, sequential]
        for index in 0..<60 {
            let width = 5 + Int(generator.next() % 20), height = 3 + Int(generator.next() % 20)
            let values = (0..<(width * height)).map { _ in UInt8(generator.next() % 6) }
            let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let photo = index % 7 == 0 ? nil : Image(width: width, height: height, pixels: pixels)
            let label = LabelMap(width: width, height: height, values: values)
            let partition = index % 4 == 0 ? "val" : "train"
            sequential.add(label: label, photo: photo, partition: partition, key: "s\(index)")
            parts[index % 3].add(label: label, photo: photo, partition: partition, key: "s\(index)")
        }
        var forward = parts[0]
        forward.merge(parts[1])
        forward.merge(parts[2])
        var backward = parts[2]
        backward.merge(parts[1])
        backward.merge(parts[0])
        let expected = sequential.finish()
        XCTAssertEqual(expected.sampleCount, 60)
        XCTAssertEqual(forward.finish(), expected)
        XCTAssertEqual(backward.finish(), expected)
    }

    func testJSONRoundTripAndStableKeys() throws {
        var accumulator = StatisticsAccumulator(labelSet: LabelSet(source: "", classes: [0: "background", 3: "glove"]))
        accumulator.add(
            label: Self.mapA, photo: Image(width: 4, height: 3, pixels: Array(0..<36)), partition: "all", key: "x")
        let stats = accumulator.finish()
        let data = try stats.encodedJSON()
        XCTAssertEqual(try DatasetStatistics.decode(fromJSON: data), stats)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(
            Set(object.keys),
            [
                "schemaVersion", "labelSet", "sampleCount", "partitions", "photoSizes", "labelSizes",
                "samplesWithoutPhoto", "photoLabelSizeMismatches", "labelPixelCount", "classes", "cooccurrence",
                "filterCandidates", "channels", "duplicates", "valuesOutsideTable",
            ])
        XCTAssertEqual(object["schemaVersion"] as? Int, 1)
    }

    func testANewerSchemaVersionIsRefused() throws {
        var object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: try crafted().encodedJSON()) as? [String: Any])
        object["schemaVersion"] = 2
        let data = try JSONSerialization.data(withJSONObject: object)
        XCTAssertThrowsError(try DatasetStatistics.decode(fromJSON: data)) { error in
            XCTAssertEqual(error as? StatisticsError, .unsupportedSchemaVersion(2))
        }
    }
}

/// The plain per-pixel definition `forEachRegion` must match.
func naiveRegions(_ map: LabelMap) -> [LabelRegion] {
    var regions: [Int: LabelRegion] = [:]
    for y in 0..<map.height {
        for x in 0..<map.width {
            let value = map.values[y * map.width + x]
            var region = regions[Int(value)] ?? LabelRegion(value: value, pixels: 0, minX: x, maxX: x, minY: y, maxY: y)
            region.pixels += 1
            region.minX = min(region.minX, x)
            region.maxX = max(region.maxX, x)
            region.minY = min(region.minY, y)
            region.maxY = max(region.maxY, y)
            regions[Int(value)] = region
        }
    }
    return regions.keys.sorted().map { regions[$0]! }
}

