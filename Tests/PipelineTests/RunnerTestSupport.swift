import AtomicFiles
import Foundation
import ImageIO
import Records
import XCTest
import _TestSupport
@testable import Pipeline

/// What the runner tests share: a trivial raw format stands in for the codecs, samples are at
/// the training size (no resampling), so resume, slices, cancellation and the report are tested
/// independently of ImageIO.
class RunnerTestCase: XCTestCase {
    /// "RAW" + channels byte + width and height (UInt16 LE) + pixels.
    static func raw(_ width: Int, _ height: Int, channels: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        [82, 65, 87, channels, UInt8(width & 255), UInt8(width >> 8), UInt8(height & 255), UInt8(height >> 8)] + bytes
    }

    static func decodeRaw(_ path: String, channels: UInt8) throws -> (Int, Int, [UInt8]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageIOError(source: path, reason: .unreadable("missing"))
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 8, bytes[0..<3] == [82, 65, 87], bytes[3] == channels else {
            throw ImageIOError(source: path, reason: .unknownFormat)
        }
        let width = Int(bytes[4]) | Int(bytes[5]) << 8, height = Int(bytes[6]) | Int(bytes[7]) << 8
        guard bytes.count == 8 + width * height * Int(channels) else {
            throw ImageIOError(source: path, reason: .corrupt("truncated"))
        }
        return (width, height, Array(bytes[8...]))
    }

    static let rawCodecs = SampleCodecs(
        openPhoto: { path in
            let (width, height, pixels) = try decodeRaw(path, channels: 3)
            return PhotoInput(Image(width: width, height: height, pixels: pixels))
        },
        readLabel: { path in
            let (width, height, values) = try decodeRaw(path, channels: 1)
            return LabelInput(LabelMap(width: width, height: height, values: values))
        },
        encodePhoto: { photo, _ in raw(photo.width, photo.height, channels: 3, photo.pixels) },
        encodeLabel: { label, _ in raw(label.width, label.height, channels: 1, label.values) },
        encodeCrop: { crop in raw(crop.width, crop.height, channels: 3, crop.pixels) })

    let width = 8, height = 6

    var root = ""

    /// 12 good samples over 4 items, plus one bad input of every kind.
    func makeInputs() throws -> (images: String, labels: String) {
        root = try temporaryFolder("pipeline-tests").path
        let images = root + "/img", labels = root + "/labels"
        func photo(_ stem: String, _ w: Int = 8, _ h: Int = 6) throws {
            try PipelineFixtures.write(
                Self.raw(w, h, channels: 3, [UInt8](repeating: 100, count: w * h * 3)), to: "\(images)/\(stem).jpg")
        }
        func label(_ stem: String, _ values: [UInt8]? = nil, _ w: Int = 8, _ h: Int = 6) throws {
            // Hair on the top row, face, upper clothes, pants, shoes, background elsewhere.
            var v = values ?? [UInt8](repeating: 0, count: w * h)
            if values == nil {
                for x in 0..<w { v[x] = 2; v[w + x] = 13; v[2 * w + x] = 5; v[3 * w + x] = 9; v[4 * w + x] = 18 }
            }
            try PipelineFixtures.write(Self.raw(w, h, channels: 1, v), to: "\(labels)/\(stem).png")
        }
        for item in 1...4 {
            for view in ["01_1_front", "02_2_side", "03_3_back"] {
                let stem = "WOMEN/Dresses/id_0000000\(item)/\(view)"
                try photo(stem)
                try label(stem)
            }
        }
        try photo("MEN/Denim/id_00000011/01_1_front")                      // no label
        try label("MEN/Denim/id_00000012/01_1_front")                      // no photo
        try photo("MEN/Denim/id_00000013/01_1_front")
        try PipelineFixtures.write([1, 2, 3], to: "\(labels)/MEN/Denim/id_00000013/01_1_front.png")  // undecodable
        try photo("MEN/Denim/id_00000014/01_1_front", 8, 5)
        try label("MEN/Denim/id_00000014/01_1_front")                      // size mismatch
        try photo("MEN/Denim/id_00000015/01_1_front")
        try label("MEN/Denim/id_00000015/01_1_front", [UInt8](repeating: 42, count: 48))  // unknown value
        try photo("MEN/Denim/id_00000016/01_1_front")
        try label("MEN/Denim/id_00000016/01_1_front", [UInt8](repeating: 3, count: 48))   // all glove
        return (images, labels)
    }

    func configuration(
        _ inputs: (images: String, labels: String), output: String, filter: String = "glove"
    ) throws -> PipelineConfiguration {
        try PipelineFixtures.configuration {
            $0.images = inputs.images
            $0.labels = inputs.labels
            $0.output = output
            $0.size = Size(width: 8, height: 6)
            $0.filterClasses = [filter]
        }
    }

    func runner(
        _ configuration: PipelineConfiguration, worker: WorkerSlice = .whole, jobs: Int = 2, restart: Bool = false,
        durable: Bool = false
    ) -> PipelineRunner {
        let runner = PipelineRunner(
            configuration: configuration,
            options: RunOptions(jobs: jobs, worker: worker, restart: restart, durable: durable))
        runner.codecs = Self.rawCodecs
        return runner
    }

    func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    /// The stems the output folder's journal lists, in order.
    func journaledStems(in output: String) throws -> [String] {
        let journal = try FileManager.default.contentsOfDirectory(atPath: output + "/.smisprep")
            .first { $0.hasPrefix("journal-") }!
        var stems: [String] = []
        try RunJournal.read(path: output + "/.smisprep/" + journal) { stems.append($0.stem) }
        return stems
    }

    func allFiles(_ folder: String) throws -> [String] {
        FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
    }
}

/// Collects observer calls from worker threads.
final class ObservedStems: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var stems: [String] = []
    private(set) var labels: [LabelMap] = []
    private(set) var storedPhotos: [(path: String, bytes: [UInt8]?)] = []
    func add(_ stem: String, _ label: LabelMap, storedPhoto: [UInt8]? = nil, path: String? = nil) {
        lock.lock()
        stems.append(stem)
        labels.append(label)
        if let path { storedPhotos.append((path, storedPhoto)) }
        lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return stems.count }
}

/// A flag the codecs of a test read from worker threads.
final class UnreadableSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var on = false
    var isOn: Bool {
        get { lock.lock(); defer { lock.unlock() }; return on }
        set { lock.lock(); on = newValue; lock.unlock() }
    }
}
