import Foundation
import ImageIO

/// The one place that defines the record schema of a segmentation sample: the feature names,
/// their types and meaning. Writers, readers, `verify`, `inspect` and the trainer use these
/// names and nothing else. Knows photos and label maps, not any particular data set.
///
/// | feature         | type       | meaning                                                    |
/// |-----------------|------------|------------------------------------------------------------|
/// | `key`           | bytes (1)  | unique sample name, UTF-8                                  |
/// | `image/encoded` | bytes (1)  | the photo, in `image/format`                               |
/// | `image/format`  | bytes (1)  | "jpeg", "png", or "raw" (RGB8 interleaved, row-major, h·w·3 bytes) |
/// | `image/height`  | int64 (1)  | photo height in pixels                                     |
/// | `image/width`   | int64 (1)  | photo width in pixels                                      |
/// | `label/encoded` | bytes (1)  | the label map, lossless, same size as the photo            |
/// | `label/format`  | bytes (1)  | "png" (8-bit gray) or "raw" (one byte per pixel, h·w bytes) |
/// | `label/classes` | int64 (1)  | class count C; every label value is < C                    |
/// | `split/bbox`    | int64 (4C) | per class c: x0, y0, x1, y1 at 4c…4c+3, half-open (x0 ≤ x < x1), all four −1 when class c is absent |
/// | `split/area`    | int64 (C)  | per class: its pixel count                                 |
///
/// Optional, for data sets with instance maps (Cityscapes); absent from records without one:
///
/// | feature            | type      | meaning                                                   |
/// |--------------------|-----------|-----------------------------------------------------------|
/// | `instance/encoded` | bytes (1) | the instance map, lossless, same size as the photo        |
/// | `instance/format`  | bytes (1) | "png" (16-bit gray) or "raw" (2 bytes per pixel, little-endian, h·w·2 bytes) |
///
/// Readers that do not know them ignore them (an Example's features are a map), so the schema
/// name stays `segmentation/1`.
public enum SegmentationRecord {
    /// Schema name and version stored in the manifest.
    public static let schema = "segmentation/1"
    /// The most classes a record (and a manifest) may name: label values are bytes.
    public static let maximumClassCount = 256

    public enum Field {
        public static let key = "key"
        public static let imageEncoded = "image/encoded"
        public static let imageFormat = "image/format"
        public static let imageHeight = "image/height"
        public static let imageWidth = "image/width"
        public static let labelEncoded = "label/encoded"
        public static let labelFormat = "label/format"
        public static let labelClasses = "label/classes"
        public static let splitBoundingBoxes = "split/bbox"
        public static let splitAreas = "split/area"
        public static let instanceEncoded = "instance/encoded"
        public static let instanceFormat = "instance/format"
    }

    /// How the photo is stored.
    public enum ImageEncoding: Equatable, Sendable, CustomStringConvertible {
        /// JPEG. With `quality` nil, JPEG input bytes are stored unchanged (no generation loss,
        /// byte-identical to the prepared file); other input is encoded at quality 95.
        case jpeg(quality: Int?)
        /// Lossless PNG, RGB 8-bit.
        case png
        /// Uncompressed RGB8, h·w·3 bytes: fastest to read, largest.
        case raw

        /// The `image/format` value.
        public var formatName: String {
            switch self {
            case .jpeg: return "jpeg"
            case .png: return "png"
            case .raw: return "raw"
            }
        }

        /// `jpeg`, `jpeg:Q`, `png` or `raw`; `init(parsing:)` reads it back.
        public var description: String {
            if case .jpeg(let quality?) = self { return "jpeg:\(quality)" }
            return formatName
        }

        /// Reads the command-line and pipeline-file spelling: `jpeg` (or `jpeg:keep`) keeps
        /// JPEG bytes, `jpeg:Q` re-encodes at quality Q in 1...100, `png`, `raw`; nil otherwise.
        public init?(parsing text: String) {
            switch text {
            case "jpeg", "jpeg:keep": self = .jpeg(quality: nil)
            case "png": self = .png
            case "raw": self = .raw
            default:
                guard text.hasPrefix("jpeg:"), let quality = Int(text.dropFirst(5)), (1...100).contains(quality) else {
                    return nil
                }
                self = .jpeg(quality: quality)
            }
        }
    }

    /// How the label map is stored; both are lossless.
    public enum LabelEncoding: String, Equatable, Sendable, CaseIterable {
        case png, raw
    }

    /// A photo as the writer receives it: its file bytes (with the size read from them), or
    /// decoded pixels.
    public enum Photo {
        case encoded(bytes: [UInt8], format: ImageFormat, width: Int, height: Int)
        case pixels(Image)

        var width: Int {
            switch self {
            case .encoded(_, _, let width, _): return width
            case .pixels(let image): return image.width
            }
        }

        var height: Int {
            switch self {
            case .encoded(_, _, _, let height): return height
            case .pixels(let image): return image.height
            }
        }
    }

    /// Per-class bounding boxes and pixel counts of a label map (the `split/…` fields).
    public struct ClassSplit: Equatable, Sendable {
        /// 4 per class: x0, y0, x1, y1, half-open; −1 four times for an absent class.
        public var boundingBoxes: [Int64]
        /// 1 per class: pixel count.
        public var areas: [Int64]
    }

    /// The per-class split of `values` (a `width × height` label map). Throws `.invalidValue`
    /// naming the first pixel whose value is ≥ `classCount`.
    public static func classSplit(
        of values: UnsafeBufferPointer<UInt8>, width: Int, height: Int, classCount: Int
    ) throws -> ClassSplit {
        precondition(values.count == width * height, "label buffer of \(values.count) bytes for \(width)×\(height)")
        var areas = [Int64](repeating: 0, count: classCount)
        var minX = [Int](repeating: Int.max, count: classCount), maxX = [Int](repeating: -1, count: classCount)
        var minY = [Int](repeating: Int.max, count: classCount), maxY = [Int](repeating: -1, count: classCount)
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                let value = Int(values[row + x])
                guard value < classCount else {
                    throw RecordsError(
                        file: "",
                        reason: .invalidValue(
                            "label value \(value) at (x \(x), y \(y)) is not below the class count \(classCount)"))
                }
                areas[value] += 1
                if x < minX[value] { minX[value] = x }
                if x > maxX[value] { maxX[value] = x }
                if y < minY[value] { minY[value] = y }
                maxY[value] = y
            }
        }
        var boxes = [Int64](repeating: -1, count: 4 * classCount)
        for c in 0..<classCount where areas[c] > 0 {
            boxes[4 * c] = Int64(minX[c])
            boxes[4 * c + 1] = Int64(minY[c])
            boxes[4 * c + 2] = Int64(maxX[c] + 1)
            boxes[4 * c + 3] = Int64(maxY[c] + 1)
        }
        return ClassSplit(boundingBoxes: boxes, areas: areas)
    }

    /// The per-class split of a label map.
    public static func classSplit(of label: LabelMap, classCount: Int) throws -> ClassSplit {
        try label.values.withUnsafeBufferPointer {
            try classSplit(of: $0, width: label.width, height: label.height, classCount: classCount)
        }
    }

    /// An instance map as the writer receives it: the decoded ids, and the 16-bit PNG file they
    /// came from when there is one (stored unchanged with `.png`).
    public struct Instances {
        public var map: InstanceMap
        public var fileBytes: [UInt8]?
        public init(map: InstanceMap, fileBytes: [UInt8]? = nil) {
            self.map = map
            self.fileBytes = fileBytes
        }
    }

    /// Builds the Example for one sample.
    ///
    /// - Parameters:
    ///   - label: the decoded label map (needed for the split fields and the value check).
    ///   - labelFileBytes: the label's PNG file, stored unchanged with `.png` when given; when
    ///     nil the map is encoded.
    ///   - instances: the sample's instance map, stored in `labelEncoding` (16-bit PNG or raw);
    ///     nil writes no instance fields.
    /// - Throws: `.invalidValue` when photo, label and instance sizes differ or a label value is
    ///   out of range; ImageIO errors when an encoder or decoder fails. Errors carry `key` as file.
    public static func example(
        key: String, photo: Photo, label: LabelMap, labelFileBytes: [UInt8]? = nil, instances: Instances? = nil,
        classCount: Int, imageEncoding: ImageEncoding, labelEncoding: LabelEncoding
    ) throws -> Example {
        guard photo.width == label.width, photo.height == label.height else {
            throw RecordsError(
                file: key, key: key,
                reason: .invalidValue(
                    "photo is \(photo.width)×\(photo.height) but label is \(label.width)×\(label.height)"))
        }
        if let map = instances?.map, map.width != label.width || map.height != label.height {
            throw RecordsError(
                file: key, key: key,
                reason: .invalidValue(
                    "instance map is \(map.width)×\(map.height) but label is \(label.width)×\(label.height)"))
        }
        let split: ClassSplit
        do { split = try classSplit(of: label, classCount: classCount) } catch var error as RecordsError {
            error.file = key
            error.key = key
            throw error
        }
        var features: [String: Feature] = [
            Field.key: .bytes([Array(key.utf8)]),
            Field.imageEncoded: .bytes([try encodedPhoto(photo, as: imageEncoding, key: key)]),
            Field.imageFormat: .bytes([Array(imageEncoding.formatName.utf8)]),
            Field.imageHeight: .int64s([Int64(label.height)]),
            Field.imageWidth: .int64s([Int64(label.width)]),
            Field.labelEncoded: .bytes([try encodedLabel(label, fileBytes: labelFileBytes, as: labelEncoding)]),
            Field.labelFormat: .bytes([Array(labelEncoding.rawValue.utf8)]),
            Field.labelClasses: .int64s([Int64(classCount)]),
            Field.splitBoundingBoxes: .int64s(split.boundingBoxes),
            Field.splitAreas: .int64s(split.areas)
        ]
        if let instances {
            features[Field.instanceEncoded] = .bytes([try encodedInstances(instances, as: labelEncoding)])
            features[Field.instanceFormat] = .bytes([Array(labelEncoding.rawValue.utf8)])
        }
        return Example(features: features)
    }

    private static func encodedInstances(_ instances: Instances, as encoding: LabelEncoding) throws -> [UInt8] {
        switch encoding {
        case .raw:
            return instances.map.values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }
        case .png:
            if let bytes = instances.fileBytes, isSixteenBitPNG(bytes) { return bytes }
            return try instances.map.encodedPNG()
        }
    }

    /// Whether `bytes` are a 16-bit grayscale PNG: what `instance/format` "png" promises readers.
    private static func isSixteenBitPNG(_ bytes: [UInt8]) -> Bool {
        guard let info = try? bytes.withUnsafeBytes({ try ImageInfo(probing: $0, source: "") }) else { return false }
        return info.format == .png && info.colorModel == .gray && info.bitsPerSample == 16
    }

    private static func encodedPhoto(_ photo: Photo, as encoding: ImageEncoding, key: String) throws -> [UInt8] {
        if case .encoded(let bytes, .jpeg, _, _) = photo, encoding == .jpeg(quality: nil) { return bytes }
        let image: Image
        switch photo {
        case .pixels(let pixels): image = pixels
        case .encoded(let bytes, _, _, _): image = try bytes.withUnsafeBytes { try Image(decoding: $0, source: key) }
        }
        switch encoding {
        case .raw: return image.pixels
        case .png: return try image.encodedPNG()
        case .jpeg(let quality): return try image.encodedJPEG(quality: quality ?? 95)
        }
    }

    private static func encodedLabel(
        _ label: LabelMap, fileBytes: [UInt8]?, as encoding: LabelEncoding
    ) throws -> [UInt8] {
        switch encoding {
        case .raw: return label.values
        case .png: return try fileBytes ?? label.encodedPNG()
        }
    }
}
