import ImageIO
import Statistics
import XCTest
import _TestSupport
@testable import Pipeline

final class PairingTests: XCTestCase {
    private func pair(_ photos: [String], _ labels: [String]) -> [PairingEvent] {
        Array(SamplePairing(
            photos: photos.map(SampleFile.init).makeIterator(), labels: labels.map(SampleFile.init).makeIterator()))
    }

    func testPairsByStemAndReportsUnpairedBothWays() {
        let events = pair(
            ["MEN/a/id_1/01_1_front.jpg", "MEN/a/id_1/02_2_side.jpg", "MEN/b/id_2/01_1_front.jpg"],
            ["MEN/a/id_1/01_1_front.png", "MEN/a/id_3/01_1_front.png", "MEN/b/id_2/01_1_front.png"])
        XCTAssertEqual(events, [
            .paired(
                stem: "MEN/a/id_1/01_1_front", photo: "MEN/a/id_1/01_1_front.jpg", label: "MEN/a/id_1/01_1_front.png"),
            .photoWithoutLabel(stem: "MEN/a/id_1/02_2_side", photo: "MEN/a/id_1/02_2_side.jpg"),
            .labelWithoutPhoto(stem: "MEN/a/id_3/01_1_front", label: "MEN/a/id_3/01_1_front.png"),
            .paired(
                stem: "MEN/b/id_2/01_1_front", photo: "MEN/b/id_2/01_1_front.jpg", label: "MEN/b/id_2/01_1_front.png"),
        ])
    }

    func testDuplicateStemIsReportedAndFirstFileIsPaired() {
        let events = pair(["a/x.jpg", "a/x.png"], ["a/x.png"])
        XCTAssertEqual(events, [
            .paired(stem: "a/x", photo: "a/x.jpg", label: "a/x.png"),
            .duplicateStem(stem: "a/x", path: "a/x.png"),
        ])
    }

    func testEmptySidesReportEverythingUnpaired() {
        XCTAssertEqual(pair(["a.jpg"], []), [.photoWithoutLabel(stem: "a", photo: "a.jpg")])
        XCTAssertEqual(pair([], ["a.png"]), [.labelWithoutPhoto(stem: "a", label: "a.png")])
        XCTAssertEqual(pair([], []), [])
    }

    func testStemOrderIsComponentWise() {
        // Byte order would put "a-c" before "a/b" ('-' < '/'); a walk meets folder "a" first.
        XCTAssertTrue(stemPrecedes("a/b", "a-c"))
        XCTAssertTrue(stemPrecedes("a", "a/b"))
        XCTAssertFalse(stemPrecedes("a/b", "a/b"))
        XCTAssertEqual(SampleFile.stem(of: "x.y/z.jpg"), "x.y/z")
        XCTAssertEqual(SampleFile.stem(of: "x.y/z"), "x.y/z")
        XCTAssertEqual(SampleFile.stem(of: ".hidden"), ".hidden")
    }

    func testWalkerYieldsStemOrderSoBothTreesMerge() throws {
        let root = try temporaryFolder("pipeline-tests").path
        let files = [
            "a-c/1.jpg", "a/b.jpg", "a/b/c.jpg", "a.b/x.jpg", "z.jpg", "a/notes.txt", ".DS_Store", "b/UPPER.JPG",
            "b/trailing.",
        ]
        for file in files {
            let path = root + "/" + file
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        }
        var walker = SortedFileWalker(root: root, extensions: photoExtensions)
        var stems: [String] = [], paths: [String] = []
        while let file = walker.next() {
            stems.append(file.stem)
            paths.append(file.relativePath)
        }
        XCTAssertEqual(stems, ["a/b", "a/b/c", "a-c/1", "a.b/x", "b/UPPER", "z"])
        XCTAssertEqual(paths, ["a/b.jpg", "a/b/c.jpg", "a-c/1.jpg", "a.b/x.jpg", "b/UPPER.JPG", "z.jpg"])
        XCTAssertEqual(stems, stems.sorted(by: stemPrecedes))
        XCTAssertEqual(walker.ignoredFiles, 2, "notes.txt and trailing.; hidden files are not counted")
        XCTAssertTrue(walker.unreadableFolders.isEmpty)
        // Each worker's walk yields exactly its slice of the stems, in the same order.
        for count in [2, 3] {
            var sliced: [String] = []
            for index in 0..<count {
                var part = SortedFileWalker(
                    root: root, extensions: photoExtensions, slice: WorkerSlice(index: index, count: count))
                var mine: [String] = []
                while let file = part.next() { mine.append(file.stem) }
                XCTAssertEqual(mine, stems.filter { WorkerSlice(index: index, count: count).contains(stem: $0) })
                XCTAssertEqual(part.otherSlicesFiles, stems.count - mine.count)
                XCTAssertEqual(part.ignoredFiles, 2)
                sliced += mine
            }
            XCTAssertEqual(sliced.sorted(), stems.sorted(), "\(count) slices cover every stem once")
        }
        var missing = SortedFileWalker(root: root + "/nonexistent", extensions: photoExtensions)
        XCTAssertNil(missing.next())
        XCTAssertEqual(missing.unreadableFolders.map(\.path), [root + "/nonexistent"])
    }
}

final class CheckRemapFilterTests: XCTestCase {
    private let source = LabelSet(source: "s", classes: [0: "background", 1: "hair", 3: "glove"])

    func testHistogramCountsEveryValue() {
        let label = LabelMap(rows: [[0, 0, 1, 3, 3], [3, 255, 0, 0, 7]])
        let histogram = LabelHistogram(label)
        XCTAssertEqual(histogram.counts[0], 4)
        XCTAssertEqual(histogram.counts[3], 3)
        XCTAssertEqual(histogram.counts[255], 1)
        XCTAssertEqual(histogram.presentValues, [0, 1, 3, 7, 255])
        XCTAssertEqual(histogram.total, 10)
    }

    /// Runs (counted eight at a time), mixed words, a word of 255s and a tail shorter than a
    /// word, against a plain count.
    func testHistogramOfRunsAndNoiseMatchesPlainCount() {
        var state: UInt32 = 7
        var values: [UInt8] = []
        for run in 0..<400 {
            state = state &* 1_103_515_245 &+ 12345
            let length = run % 3 == 0 ? Int(state >> 28) : 5 + Int(state >> 24) % 40
            let value: UInt8 = run % 17 == 0 ? 255 : UInt8(truncatingIfNeeded: state >> 13) % 20
            values += [UInt8](repeating: value, count: length)
        }
        values += [9, 9, 9]
        let label = LabelMap(width: values.count, height: 1, values: values)
        var expected = [Int](repeating: 0, count: 256)
        for value in values { expected[Int(value)] += 1 }
        XCTAssertEqual(LabelHistogram(label).counts, expected)
        XCTAssertEqual(LabelHistogram(LabelMap(width: 0, height: 0)).total, 0)
        // A map that is one run of 0s (the register run's starting value), and runs of one value
        // interrupted by mixed words, then resumed.
        XCTAssertEqual(
            LabelHistogram(LabelMap(width: 1000, height: 3, values: [UInt8](repeating: 0, count: 3000))).counts[0],
            3000)
        let interrupted = [UInt8](repeating: 7, count: 64) + [7, 7, 3, 7, 7, 7, 7, 7] + [UInt8](repeating: 7, count: 61)
        let counts = LabelHistogram(LabelMap(width: interrupted.count, height: 1, values: interrupted)).counts
        XCTAssertEqual([counts[7], counts[3], counts.reduce(0, +)], [132, 1, 133])
    }

    func testCheckRefusesSizeMismatchThenUnknownValues() {
        let check = SampleCheck(source: source, ignore: IgnoreRule(value: 255, becomes: 0))
        let label = LabelMap(rows: [[0, 1, 2], [255, 9, 9]])
        let histogram = LabelHistogram(label)
        XCTAssertEqual(check.problem(photoWidth: 4, photoHeight: 2, label: label, histogram: histogram),
                       .sizeMismatch(photoWidth: 4, photoHeight: 2, labelWidth: 3, labelHeight: 2))
        XCTAssertEqual(check.problem(photoWidth: 3, photoHeight: 2, label: label, histogram: histogram),
                       .unknownLabelValue(value: 2, pixels: 1))
        let clean = LabelMap(rows: [[0, 1, 3], [255, 0, 0]])
        XCTAssertNil(check.problem(photoWidth: 3, photoHeight: 2, label: clean, histogram: LabelHistogram(clean)))
        let strict = SampleCheck(source: source, ignore: IgnoreRule(value: 255, becomes: nil))
        XCTAssertEqual(strict.problem(photoWidth: 3, photoHeight: 2, label: clean, histogram: LabelHistogram(clean)),
                       .unknownLabelValue(value: 255, pixels: 1))
    }

    func testRemapUsesTheTable() {
        let table = ClassMapping(targets: ["hair", "background"], sourceIDsByTarget: [[1, 3], [0]])
        let remap = LabelRemap(classMapping: table, ignore: IgnoreRule(value: 255, becomes: 1))
        let label = LabelMap(rows: [[0, 1, 3, 255], [3, 3, 0, 1]])
        XCTAssertEqual(remap.apply(to: label), LabelMap(rows: [[1, 0, 0, 1], [0, 0, 1, 0]]))
        let histogram = remap.apply(to: LabelHistogram(label))
        XCTAssertEqual(Array(histogram.counts[0..<2]), [5, 3])
        XCTAssertEqual(remap.table[2], LabelRemap.unmapped)
    }

    func testFilterDropsAboveThresholdOnly() {
        let label = LabelMap(rows: [[3, 3, 3, 0, 0], [0, 0, 0, 0, 0]])  // 3 glove pixels of 10
        let histogram = LabelHistogram(label)
        func filter(_ threshold: FilterThreshold) -> RareAttributeFilter {
            RareAttributeFilter(classNames: ["hair", "glove"], sourceIDs: [1, 3], threshold: threshold)
        }
        XCTAssertNil(filter(.pixels(3)).verdict(for: histogram, pixelCount: 10))
        XCTAssertEqual(
            filter(.pixels(2)).verdict(for: histogram, pixelCount: 10),
            .filtered(sourceClass: "glove", pixels: 3, limit: 2))
        XCTAssertNil(filter(.percent(30)).verdict(for: histogram, pixelCount: 10))
        XCTAssertEqual(
            filter(.percent(25)).verdict(for: histogram, pixelCount: 10),
            .filtered(sourceClass: "glove", pixels: 3, limit: 2.5))
        let none = RareAttributeFilter(classNames: [], sourceIDs: [], threshold: .pixels(0))
        XCTAssertNil(none.verdict(for: histogram, pixelCount: 10))
    }
}

final class ResizeGeometryTests: XCTestCase {
    func testStretchUsesEverything() {
        let geometry = FitGeometry(sourceWidth: 750, sourceHeight: 1101, width: 256, height: 256, fit: .stretch)
        XCTAssertEqual(geometry.sourceCrop, PixelRect(x: 0, y: 0, width: 750, height: 1101))
        XCTAssertEqual(geometry.placement, PixelRect(x: 0, y: 0, width: 256, height: 256))
    }

    func testCropCutsTheCentreOfTheLongSide() {
        let tall = FitGeometry(sourceWidth: 750, sourceHeight: 1101, width: 256, height: 256, fit: .crop)
        XCTAssertEqual(tall.sourceCrop, PixelRect(x: 0, y: 175, width: 750, height: 750))
        let wide = FitGeometry(sourceWidth: 400, sourceHeight: 100, width: 100, height: 100, fit: .crop)
        XCTAssertEqual(wide.sourceCrop, PixelRect(x: 150, y: 0, width: 100, height: 100))
    }

    func testPadCentresTheWholeSource() {
        let tall = FitGeometry(sourceWidth: 750, sourceHeight: 1101, width: 256, height: 256, fit: .pad)
        // 750 × 256 / 1101 = 174.4 → 174, centred: (256 − 174) / 2 = 41.
        XCTAssertEqual(tall.placement, PixelRect(x: 41, y: 0, width: 174, height: 256))
        let wide = FitGeometry(sourceWidth: 200, sourceHeight: 100, width: 100, height: 100, fit: .pad)
        XCTAssertEqual(wide.placement, PixelRect(x: 0, y: 25, width: 100, height: 50))
    }

    func testCropAndPlaceMoveThePixelsTheyShould() {
        let label = LabelMap(rows: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
        XCTAssertEqual(
            label.cropped(to: PixelRect(x: 1, y: 1, width: 2, height: 2)), LabelMap(rows: [[6, 7], [10, 11]]))
        XCTAssertEqual(LabelMap(rows: [[1, 2]]).placed(onCanvasWidth: 4, height: 2, x: 1, y: 1, fill: 7),
                       LabelMap(rows: [[7, 7, 7, 7], [7, 1, 2, 7]]))
        let photo = Image(width: 2, height: 2, pixels: Array(1...12))
        XCTAssertEqual(photo.cropped(to: PixelRect(x: 1, y: 0, width: 1, height: 2)).pixels, [4, 5, 6, 10, 11, 12])
    }

    func testPadAtTheSameScaleOnlyPlaces() {
        // A 2×1 sample padded to 2×2 needs no scaling, so this runs without the resampler.
        let resize = SampleResize(settings: ResizeSettings(size: Size(width: 2, height: 2), fit: .pad), padLabel: 7)
        let photo = Image(width: 2, height: 1, pixels: [9, 9, 9, 8, 8, 8])
        let output = resize.apply(photo: photo, label: LabelMap(rows: [[1, 2]]))
        XCTAssertEqual(output.label, LabelMap(rows: [[1, 2], [7, 7]]))
        XCTAssertEqual(output.photo.pixels, [9, 9, 9, 8, 8, 8, 0, 0, 0, 0, 0, 0])
    }
}

final class PartitionTests: XCTestCase {
    let list = """
        3
        image_name item_id evaluation_status
        img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train
        img/WOMEN/Dresses/id_00000002/02_2_side.jpg id_00000002 query
        img/MEN/Denim/id_00000080/01_1_front.jpg      id_00000080 gallery

        """

    func testListSendsQueryAndGalleryToValidation() throws {
        let parsed = try EvalPartitionList(parsing: list, file: "list_eval_partition.txt")
        let partitioner = Partitioner(list: parsed, validationFraction: 0.5)
        XCTAssertEqual(partitioner.split(forStem: "WOMEN/Dresses/id_00000002/02_1_front"), .train)
        XCTAssertEqual(partitioner.split(forStem: "WOMEN/Dresses/id_00000002/02_2_side"), .validation)
        XCTAssertEqual(partitioner.split(forStem: "img/MEN/Denim/id_00000080/01_1_front"), .validation)
        XCTAssertNil(partitioner.split(forStem: "MEN/Denim/id_00000080/02_2_side"))
    }

    func testMalformedListsNameTheLine() {
        func line(of text: String) -> Int? {
            do { _ = try EvalPartitionList(parsing: text, file: "l.txt"); return nil } catch {
                return (error as? PartitionListError)?.line
            }
        }
        XCTAssertEqual(line(of: list.replacingOccurrences(of: "gallery", with: "holdout")), 5)
        XCTAssertEqual(line(of: list.replacingOccurrences(of: " id_00000002 train", with: " train")), 3)
        XCTAssertEqual(line(of: list.replacingOccurrences(of: "image_name", with: "name")), 2)
        XCTAssertEqual(line(of: list.replacingOccurrences(of: "3\n", with: "4\n")), 1)
        XCTAssertEqual(line(of: "lots\n"), 1)
        // A record listed twice is named at its second line (it was reported as a count
        // mismatch on line 1 that quoted equal counts).
        let twice = list.replacingOccurrences(of: "3\n", with: "4\n")
            + "\nimg/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train"
        XCTAssertEqual(line(of: twice), 6)
    }

    func testFNV1aKnownValues() {
        // Published FNV-1a 64-bit test vectors.
        XCTAssertEqual(fnv1a64(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(fnv1a64("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(fnv1a64("foobar"), 0x8594_4171_f739_67e8)
        // fmix64 of 0 is 0, and the finaliser is a bijection, so distinct FNV values stay distinct.
        XCTAssertNotEqual(stableHash("id_00000080"), stableHash("id_00000081"))
    }

    func testHashSplitKeepsItemsTogetherAndHitsTheFraction() {
        let partitioner = Partitioner(list: nil, validationFraction: 0.2)
        var validationItems = 0
        for item in 0..<5000 {
            let id = String(format: "id_%08d", item)
            let sides = Set(
                ["01_1_front", "02_2_side", "03_4_full"].map { partitioner.split(forStem: "MEN/Denim/\(id)/\($0)")! })
            XCTAssertEqual(sides.count, 1, "item \(id) split across sides")
            if sides.first == .validation { validationItems += 1 }
        }
        XCTAssertEqual(Double(validationItems) / 5000, 0.2, accuracy: 0.02)
        XCTAssertEqual(Partitioner.itemID(ofStem: "MEN/Denim/id_00000080/01_1_front"), "id_00000080")
        XCTAssertEqual(Partitioner.itemID(ofStem: "loose"), "loose")
        XCTAssertEqual(Partitioner(list: nil, validationFraction: 0).split(forStem: "a/b"), .train)
        XCTAssertEqual(Partitioner(list: nil, validationFraction: 1).split(forStem: "a/b"), .validation)
    }

    func testWorkerSlicesPartitionTheStems() {
        let stems = (0..<3000).map { "MEN/Denim/id_\($0)/01_1_front" }
        let slices = (0..<3).map { WorkerSlice(index: $0, count: 3) }
        for stem in stems { XCTAssertEqual(slices.filter { $0.contains(stem: stem) }.count, 1) }
        XCTAssertEqual(Double(stems.filter { slices[0].contains(stem: $0) }.count), 1000, accuracy: 100)
        XCTAssertEqual(WorkerSlice(parsing: "2/4"), WorkerSlice(index: 2, count: 4))
        XCTAssertNil(WorkerSlice(parsing: "4/4"))
        XCTAssertNil(WorkerSlice(parsing: "1"))
    }
}

final class ClassSplitTests: XCTestCase {
    func testCountsBoxesMasksAndCrops() {
        let label = LabelMap(rows: [
            [2, 2, 0, 0],
            [2, 1, 1, 0],
            [0, 1, 1, 0],
        ])
        let parts = ClassSplit.parts(of: label, classCount: 4)
        XCTAssertEqual(parts.map(\.pixelCount), [5, 4, 3, 0])
        XCTAssertEqual(parts[1].boundingBox, PixelRect(x: 1, y: 1, width: 2, height: 2))
        XCTAssertEqual(parts[2].boundingBox, PixelRect(x: 0, y: 0, width: 2, height: 2))
        XCTAssertEqual(parts[0].boundingBox, PixelRect(x: 0, y: 0, width: 4, height: 3))
        XCTAssertNil(parts[3].boundingBox)
        XCTAssertEqual(ClassSplit.mask(of: label, classID: 2).values, [255, 255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0])

        let photo = Image(width: 4, height: 3, pixels: (0..<36).map { UInt8($0 + 1) })
        let crop = ClassSplit.maskedCrop(photo: photo, label: label, part: parts[2])!
        XCTAssertEqual(crop.width, 2)
        XCTAssertEqual(crop.height, 2)
        // Pixel (1,1) is class 1: blacked out; the other three are the photo's.
        XCTAssertEqual(crop.pixels, [1, 2, 3, 4, 5, 6, 13, 14, 15, 0, 0, 0])
        XCTAssertNil(ClassSplit.maskedCrop(photo: photo, label: label, part: parts[3]))
    }

    /// The run-by-run scan against a pixel-by-pixel one, on runs that cross row ends and ids
    /// at or above the class count (which are ignored).
    func testPartsOfRunsMatchPixelByPixel() {
        var state: UInt32 = 11
        var values: [UInt8] = []
        while values.count < 37 * 23 {
            state = state &* 1_103_515_245 &+ 12345
            values += [UInt8](repeating: UInt8(state >> 16 & 0xFF) % 11, count: 1 + Int(state >> 27))
        }
        let label = LabelMap(width: 37, height: 23, values: Array(values.prefix(37 * 23)))
        let classCount = 9
        var expected: [(count: Int, box: (Int, Int, Int, Int))] = Array(
            repeating: (0, (Int.max, Int.max, -1, -1)), count: classCount)
        for y in 0..<23 {
            for x in 0..<37 {
                let id = Int(label.values[y * 37 + x])
                guard id < classCount else { continue }
                expected[id].count += 1
                let b = expected[id].box
                expected[id].box = (min(b.0, x), min(b.1, y), max(b.2, x), max(b.3, y))
            }
        }
        let parts = ClassSplit.parts(of: label, classCount: classCount)
        let wide = ClassSplit.parts(of: label, classCount: 300)  // more classes than a byte holds: the rest are empty
        XCTAssertEqual(wide.count, 300)
        XCTAssertEqual(Array(wide.prefix(classCount)), parts)
        XCTAssertTrue(wide[256...].allSatisfy { $0.pixelCount == 0 && $0.boundingBox == nil })
        for id in 0..<classCount {
            XCTAssertEqual(parts[id].pixelCount, expected[id].count, "class \(id)")
            let b = expected[id].box
            XCTAssertEqual(parts[id].boundingBox, expected[id].count == 0
                ? nil : PixelRect(x: b.0, y: b.1, width: b.2 - b.0 + 1, height: b.3 - b.1 + 1), "class \(id)")
        }
    }
}

final class SamplePreparationTests: XCTestCase {
    /// The whole chain on in-memory values at the training size (no resampling needed).
    func testChainKeepsRemapsAndDropsWithReasons() throws {
        let configuration = try PipelineFixtures.configuration {
            $0.size = Size(width: 4, height: 2)
            $0.filterThreshold = .pixels(1)
        }
        let preparation = SamplePreparation(configuration: configuration, partitionList: nil)
        let photo = Image(width: 4, height: 2)
        let stem = "WOMEN/Dresses/id_00000002/02_1_front"

        let label = LabelMap(rows: [[0, 2, 13, 5], [9, 18, 255, 3]])
        guard case .kept(let sample) = preparation.prepare(stem: stem, photo: photo, label: label) else {
            return XCTFail("one glove pixel is within the threshold of 1")
        }
        XCTAssertEqual(sample.label, LabelMap(rows: [[7, 0, 1, 3], [4, 6, 7, 3]]))
        XCTAssertEqual(sample.flatStem, "WOMEN-Dresses-id_00000002-02_1_front")
        XCTAssertEqual(sample.parts.map(\.pixelCount), [1, 1, 0, 2, 1, 0, 1, 2])
        XCTAssertEqual(sample.split, Partitioner.hashedSplit(itemID: "id_00000002", validationFraction: 0.08))

        func reason(_ rows: [[UInt8]], photo: Image = Image(width: 4, height: 2)) -> DropReason? {
            if case .dropped(let reason) = preparation.prepare(stem: stem, photo: photo, label: LabelMap(rows: rows)) {
                return reason
            }
            return nil
        }
        XCTAssertEqual(reason([[3, 3, 0, 0], [0, 0, 0, 0]]), .filtered(sourceClass: "glove", pixels: 2, limit: 1))
        XCTAssertEqual(reason([[42, 0, 0, 0], [0, 0, 0, 0]]), .unknownLabelValue(value: 42, pixels: 1))
        XCTAssertEqual(
            reason([[0, 0, 0, 0]]), .sizeMismatch(photoWidth: 4, photoHeight: 2, labelWidth: 4, labelHeight: 1))
    }
}
