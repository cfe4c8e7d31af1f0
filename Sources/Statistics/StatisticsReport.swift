import AtomicFiles
import Foundation
import ImageIO

/// The `--report DIR` output: `DIR/index.html` with inline SVG charts (class share, class
/// presence, co-occurrence heat map, bounding-box size histograms, photo sizes) and a contact
/// sheet whose PNG thumbnails are written to `DIR/thumbnails/`.
public enum StatisticsReport {
    /// Longest side of photo and label-map thumbnails, in pixels.
    static let thumbnailSide = 160
    /// Longest side of per-class split thumbnails.
    static let splitSide = 72

    /// Writes the report into `directory` (created if needed) and returns the files written,
    /// `index.html` first. Each file is written to a temporary name, synced, then renamed, so
    /// no half-written file ever has its final name.
    /// - Throws: `ImageIOError` when a thumbnail cannot be encoded, `AtomicFileError` naming the
    ///   file when it cannot be written, `StatisticsError.writeFailed` when the folder cannot be
    ///   created.
    public static func write(
        _ statistics: DatasetStatistics, labelSet: LabelSet, samples: [ContactSheetSample], to directory: String
    ) throws -> [String] {
        let root = URL(fileURLWithPath: directory)
        let thumbnails = root.appendingPathComponent("thumbnails")
        do {
            try FileManager.default.createDirectory(at: thumbnails, withIntermediateDirectories: true)
        } catch {
            throw StatisticsError.writeFailed(path: thumbnails.path, message: "\(error)")
        }
        var written: [String] = []
        var entries: [ContactSheetEntry] = []
        let palette = LabelPalette.colours(for: labelSet)
        for (index, sample) in samples.enumerated() {
            var entry = ContactSheetEntry(key: sample.key, photoFile: nil, labelFile: "", classFiles: [])
            func save(_ image: Image, _ name: String) throws -> String {
                let relative = "thumbnails/\(name).png"
                let path = root.appendingPathComponent(relative).path
                try AtomicFileWriter.write(try image.encodedPNG(), to: path)
                written.append(path)
                return relative
            }
            entry.labelFile = try save(
                Thumbnail.colourised(sample.label, palette: palette, maxSide: thumbnailSide), "\(index)-label")
            if let photo = sample.photo {
                entry.photoFile = try save(Thumbnail.photo(photo, maxSide: thumbnailSide), "\(index)-photo")
                var regions: [LabelRegion] = []
                sample.label.forEachRegion { regions.append($0) }
                for region in regions {
                    guard let name = labelSet.name(of: Int(region.value)), name != "background",
                        let split = Thumbnail.classSplit(photo: photo, label: sample.label, region: region)
                    else { continue }
                    let file = try save(Thumbnail.photo(split, maxSide: splitSide), "\(index)-class-\(region.value)")
                    entry.classFiles.append((name, file))
                }
            }
            entries.append(entry)
        }
        let index = root.appendingPathComponent("index.html").path
        let page = htmlPage(statistics, labelSet: labelSet, contactSheet: entries)
        try AtomicFileWriter.write(page.utf8, to: index)
        return [index] + written
    }

    /// `count` indices of `0..<total` spread evenly from the first to the last (all of them
    /// when `count >= total`): the samples a contact sheet shows.
    public static func spreadIndices(_ count: Int, over total: Int) -> [Int] {
        guard count > 0, total > 0 else { return [] }
        if count >= total { return Array(0..<total) }
        return (0..<count).map { count == 1 ? 0 : $0 * (total - 1) / (count - 1) }
    }

    /// Decodes up to `count` samples spread evenly over `samples` (first, …, last), for the
    /// contact sheet. Samples that fail to decode are left out.
    public static func loadContactSheet(from samples: [SampleFiles], count: Int) -> [ContactSheetSample] {
        spreadIndices(count, over: samples.count).compactMap { index in
            let sample = samples[index]
            guard let label = try? LabelMap(contentsOfFile: sample.labelPath) else { return nil }
            let photo = sample.photoPath.flatMap { try? Image(contentsOfFile: $0) }
            return ContactSheetSample(key: sample.key, label: label, photo: photo)
        }
    }
}

/// Files of one contact-sheet row, relative to the report folder.
struct ContactSheetEntry {
    var key: String
    var photoFile: String?
    var labelFile: String
    var classFiles: [(name: String, file: String)]
}
