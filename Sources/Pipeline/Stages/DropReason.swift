import Foundation

/// Why a sample was dropped, by whichever step dropped it: pairing, reading, the stages
/// (check, filter, partition) or writing. Every drop is reported with one of these, never
/// silently.
public enum DropReason: Equatable, Sendable, Codable {
    /// A photo whose label map is missing.
    case photoWithoutLabel
    /// A label map whose photo is missing.
    case labelWithoutPhoto
    /// A second file with the same stem on one side.
    case duplicateStem
    /// The photo or label file could not be read or decoded (the decoder's message).
    case undecodable(file: String, message: String)
    /// Photo and label map differ in size.
    case sizeMismatch(photoWidth: Int, photoHeight: Int, labelWidth: Int, labelHeight: Int)
    /// The label map holds a value outside the source label set (or the ignore value under
    /// the `reject` rule).
    case unknownLabelValue(value: Int, pixels: Int)
    /// More than the threshold of a filtered source class.
    case filtered(sourceClass: String, pixels: Int, limit: Double)
    /// A partition list was given and does not list the photo.
    case notInPartitionList
    /// The data set has instance maps and this sample's is missing (the path it should have).
    case instanceMapMissing(file: String)
    /// The instance map's size differs from the label map's.
    case instanceSizeMismatch(instanceWidth: Int, instanceHeight: Int, labelWidth: Int, labelHeight: Int)
    /// Writing an output failed (the system's message).
    case writeFailed(message: String)

    /// A short key for counting, e.g. `size-mismatch`.
    public var key: String {
        switch self {
        case .photoWithoutLabel: return "photo-without-label"
        case .labelWithoutPhoto: return "label-without-photo"
        case .duplicateStem: return "duplicate-stem"
        case .undecodable: return "undecodable"
        case .sizeMismatch: return "size-mismatch"
        case .unknownLabelValue: return "unknown-label-value"
        case .filtered: return "filtered"
        case .notInPartitionList: return "not-in-partition-list"
        case .instanceMapMissing: return "instance-map-missing"
        case .instanceSizeMismatch: return "instance-size-mismatch"
        case .writeFailed: return "write-failed"
        }
    }

    /// One readable line.
    public var explanation: String {
        switch self {
        case .photoWithoutLabel: return "photo has no label map"
        case .labelWithoutPhoto: return "label map has no photo"
        case .duplicateStem: return "another file has the same stem"
        case .undecodable(let file, let message): return "cannot decode \(file): \(message)"
        case .sizeMismatch(let pw, let ph, let lw, let lh):
            return "photo is \(pw)×\(ph) but label map is \(lw)×\(lh)"
        case .unknownLabelValue(let value, let pixels):
            return "label value \(value) is not in the source label set (\(pixels) pixels)"
        case .filtered(let sourceClass, let pixels, let limit):
            return "filtered: \(pixels) pixels of \(sourceClass) (limit \(formatLimit(limit)))"
        case .notInPartitionList: return "not listed in the partition list"
        case .instanceMapMissing(let file): return "label map has no instance map (\(file))"
        case .instanceSizeMismatch(let iw, let ih, let lw, let lh):
            return "instance map is \(iw)×\(ih) but label map is \(lw)×\(lh)"
        case .writeFailed(let message): return "cannot write output: \(message)"
        }
    }
}

private func formatLimit(_ limit: Double) -> String {
    limit == limit.rounded() ? String(Int(limit)) : String(format: "%.1f", limit)
}
