import AtomicFiles
import Foundation
import ImageIO

/// Writes a synthetic file: a throw-away test input, so no fsync; folders created as needed.
func writeThrowAway<Bytes: Sequence>(_ bytes: Bytes, to path: String) throws where Bytes.Element == UInt8 {
    try AtomicFileWriter.write(bytes, to: path, options: AtomicWriteOptions(durable: false, createFolders: true))
}

/// Writes a synthetic DeepFashion-style set: `DIR/img/<stem>.jpg` photos, `DIR/labels/<stem>.png`
/// LIP palette label maps (as a LIP parser writes them) and `DIR/list_eval_partition.txt`.
public struct SyntheticDataSet: Sendable {
    public var count: Int
    public var seed: UInt64
    /// JPEG quality of the photos (fixtures use a low one to stay small).
    public var photoQuality: Int
    /// Photo size; DeepFashion's 750×1101 by default.
    public var size: Size

    public init(count: Int, seed: UInt64, photoQuality: Int = 90, size: Size = SyntheticPerson.size) {
        self.count = count
        self.seed = seed
        self.photoQuality = photoQuality
        self.size = size
    }

    /// What was written: relative stems and the extras (hat, glove, …) of each person.
    public struct Written: Sendable {
        public var stems: [String] = []
        public var extrasByStem: [String: [String]] = [:]
    }

    /// Draws and writes every sample (on `jobs` threads), then the partition list. Files are
    /// written atomically, so an interrupted call leaves only whole files.
    @discardableResult
    public func write(to folder: String, jobs: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Written {
        let palette = SyntheticPerson.lipPalette()
        let results = UnsafeResults(count: count)
        let chunk = max(1, count / (jobs * 8))
        DispatchQueue.concurrentPerform(iterations: (count + chunk - 1) / chunk) { block in
            for index in block * chunk..<min(count, (block + 1) * chunk) {
                let person = SyntheticPerson(seed: seed, index: index, width: size.width, height: size.height)
                do {
                    let stem = person.relativeStem
                    let photo = try person.photo.encodedJPEG(quality: photoQuality)
                    try writeThrowAway(photo, to: "\(folder)/img/\(stem).jpg")
                    let label = try person.label.encodedPNG(palette: palette, compressionLevel: 9)
                    try writeThrowAway(label, to: "\(folder)/labels/\(stem).png")
                    results.set(index, .success((person.relativeStem, person.extras)))
                } catch {
                    results.set(index, .failure(error))
                }
            }
        }
        var written = Written()
        for result in results.values {
            let (stem, extras) = try result!.get()
            written.stems.append(stem)
            written.extrasByStem[stem] = extras
        }
        try writeThrowAway(Self.partitionList(stems: written.stems).utf8, to: "\(folder)/list_eval_partition.txt")
        return written
    }

    /// DeepFashion's format: items whose number is a multiple of 4 are query, those of 8k+7
    /// gallery (both validation), the rest train.
    public static func partitionList(stems: [String]) -> String {
        var lines = ["\(stems.count)", "image_name item_id evaluation_status"]
        for stem in stems {
            let item = Partitioner.itemID(ofStem: stem)
            let number = Int(item.dropFirst(3)) ?? 0
            let status = number % 4 == 0 ? "query" : (number % 8 == 7 ? "gallery" : "train")
            lines.append("img/\(stem).jpg \(item) \(status)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes one deliberately bad input of every kind the pipeline must survive, small and
    /// under item ids `id_0900000N`, and returns the stems with the drop reason key expected:
    /// a photo without label, a label without photo, a truncated label PNG, a photo that is not
    /// an image, photo and label of different sizes, a label value outside LIP, and a label
    /// with the parser's 255 "ignore" border (kept when 255 becomes background).
    public static func writeDefects(to folder: String) throws -> [(stem: String, expected: String)] {
        let palette = SyntheticPerson.lipPalette()
        func person(_ index: Int) -> SyntheticPerson {
            SyntheticPerson(seed: 7, index: index * 3, width: 150, height: 220)
        }
        func stem(_ n: Int, _ category: String = "Denim") -> String { "MEN/\(category)/id_0900000\(n)/01_1_front" }
        func photo(_ p: SyntheticPerson, _ stem: String) throws {
            try writeThrowAway(try p.photo.encodedJPEG(quality: 60), to: "\(folder)/img/\(stem).jpg")
        }
        func labelFile(_ bytes: [UInt8], _ stem: String) throws {
            try writeThrowAway(bytes, to: "\(folder)/labels/\(stem).png")
        }
        func label(_ l: LabelMap, _ stem: String) throws {
            try labelFile(try l.encodedPNG(palette: palette, compressionLevel: 9), stem)
        }
        var cases: [(String, String)] = []

        try photo(person(1), stem(1))
        cases.append((stem(1), "photo-without-label"))

        try label(person(2).label, stem(2))
        cases.append((stem(2), "label-without-photo"))

        let truncated = person(3)
        try photo(truncated, stem(3))
        let png = try truncated.label.encodedPNG(palette: palette, compressionLevel: 9)
        try labelFile(Array(png.prefix(png.count / 2)), stem(3))
        cases.append((stem(3), "undecodable"))

        try writeThrowAway("not a photo\n".utf8, to: "\(folder)/img/\(stem(4)).jpg")
        try label(person(4).label, stem(4))
        cases.append((stem(4), "undecodable"))

        let mismatched = person(5)
        try photo(mismatched, stem(5))
        try label(SyntheticPerson(seed: 7, index: 15, width: 100, height: 100).label, stem(5))
        cases.append((stem(5), "size-mismatch"))

        var unknown = person(6)
        var values = unknown.label.values
        for i in 0..<200 { values[i] = 42 }
        try photo(unknown, stem(6))
        unknown = unknown.replacingLabel(LabelMap(width: 150, height: 220, values: values))
        // A full 256-colour palette, so the PNG can hold the stray value.
        let fullPalette = SyntheticPerson.lipPalette(count: 256)
        try labelFile(try unknown.label.encodedPNG(palette: fullPalette, compressionLevel: 9), stem(6))
        cases.append((stem(6), "unknown-label-value"))

        var border = person(7).label
        for x in 0..<border.width { border.values[x] = 255 }
        try photo(person(7), stem(7))
        // A palette PNG cannot index 255 with a 20-colour palette; parsers writing 255 write
        // grayscale, so this one is grayscale.
        try labelFile(try border.encodedPNG(compressionLevel: 9), stem(7))
        cases.append((stem(7), "kept"))
        return cases
    }
}

extension SyntheticPerson {
    fileprivate func replacingLabel(_ label: LabelMap) -> SyntheticPerson {
        SyntheticPerson(relativeStem: relativeStem, itemID: itemID, label: label, photo: photo, extras: extras)
    }

    fileprivate init(relativeStem: String, itemID: String, label: LabelMap, photo: Image, extras: [String]) {
        self.relativeStem = relativeStem
        self.itemID = itemID
        self.label = label
        self.photo = photo
        self.extras = extras
    }
}

/// Per-index result slots filled from `concurrentPerform`; each slot is written by one
/// iteration only, under a lock.
private final class UnsafeResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<(String, [String]), Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<(String, [String]), Error>) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
