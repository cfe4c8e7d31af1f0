/// A sample (a photo and its label map) that an output leaves out, and why: the one shape in
/// which the shard writer reports inputs it could not encode, the shard stage the prepared
/// samples missing from the shards, and the statistics scan the files it could not read. (The
/// pipeline's `report.json` lists its drops as `DroppedSample`, whose reason is typed.)
///
/// It lives here, beside `Image` and `LabelMap`, because Records and Statistics both report
/// skipped samples and ImageIO is the one target below both.
public struct SkippedSample: Equatable, Sendable, CustomStringConvertible {
    /// The sample's name: its file stem or key, e.g. `MEN-Denim-id_00000080-01_1_front`.
    public var stem: String
    /// The split or partition it belongs to (`train`, `validation`), when the output has several.
    public var split: String?
    /// The file at fault, when one is known.
    public var file: String?
    /// Why, in words: "photo or label missing", or the reader's or decoder's message.
    public var reason: String

    public init(stem: String, split: String? = nil, file: String? = nil, reason: String) {
        self.stem = stem
        self.split = split
        self.file = file
        self.reason = reason
    }

    /// `FILE: REASON` when a file is at fault (the reason alone when it already starts with
    /// the file, as decoder messages do), else `SPLIT/STEM: REASON`.
    public var description: String {
        if let file { return reason.hasPrefix(file) ? reason : "\(file): \(reason)" }
        return (split.map { "\($0)/" } ?? "") + "\(stem): \(reason)"
    }
}
