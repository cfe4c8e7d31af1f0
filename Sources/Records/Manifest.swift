import AtomicFiles
import Crypto
import Foundation

/// `manifest.json`: the one file that describes a shard set. Written last and atomically, so a
/// set with a manifest is complete; readers trust only shards the manifest lists.
///
/// ```json
/// { "formatVersion": 1, "toolVersion": "smisprep 0.1.0", "schema": "segmentation/1",
///   "classes": ["hair", …], "settings": {"image": "jpeg", "label": "png", …},
///   "shards": [{"name": "train-00000.tfrecord", "index": "train-00000.index", "split": "train",
///               "records": 512, "bytes": 9437184, "sha256": "…"}],
///   "pipeline": "…text of the pipeline file…", "statistics": { …caller's object… } }
/// ```
public struct Manifest: Codable, Equatable, Sendable {
    public static let fileName = "manifest.json"
    public static let currentFormatVersion = 1

    public struct Shard: Codable, Equatable, Sendable {
        /// File name of the shard, relative to the manifest's folder.
        public var name: String
        /// File name of its index.
        public var index: String
        /// Which split the records belong to ("train", "validation", …).
        public var split: String
        /// Number of records.
        public var records: Int
        /// Byte size of the shard file.
        public var bytes: Int
        /// SHA-256 of the shard file, lowercase hex.
        public var sha256: String

        /// The shard's and its index's paths in `directory`. Throws `.badManifest` for a name that
        /// is not a plain file name, or a symbolic link that leads out of `directory` (a set
        /// from someone else must not make a reader open files elsewhere).
        public func files(in directory: URL) throws -> (shard: URL, index: URL) {
            (try Manifest.file(named: name, in: directory), try Manifest.file(named: index, in: directory))
        }

        public init(name: String, index: String, split: String, records: Int, bytes: Int, sha256: String) {
            self.name = name
            self.index = index
            self.split = split
            self.records = records
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public var formatVersion: Int
    /// The program and version that wrote the set, e.g. "smisprep 0.1.0".
    public var toolVersion: String
    /// Name and version of the record schema, e.g. `SegmentationRecord.schema`.
    public var schema: String
    /// Class names; class id = position.
    public var classes: [String]
    /// How the records were written (image and label encodings, shard sizing), as text.
    public var settings: [String: String]
    public var shards: [Shard]
    /// The text of the pipeline file that produced the data, when there was one.
    public var pipeline: String?
    /// Dataset statistics supplied by the caller, stored as given.
    public var statistics: JSONValue

    public init(
        toolVersion: String, schema: String, classes: [String], settings: [String: String], shards: [Shard],
        pipeline: String?, statistics: JSONValue
    ) {
        formatVersion = Self.currentFormatVersion
        self.toolVersion = toolVersion
        self.schema = schema
        self.classes = classes
        self.settings = settings
        self.shards = shards
        self.pipeline = pipeline
        self.statistics = statistics
    }

    /// Total records over all shards (or over one split).
    public func recordCount(split: String? = nil) -> Int {
        shards.filter { split == nil || $0.split == split }.reduce(0) { $0 + $1.records }
    }

    /// SHA-256 over the shard names and hashes, in order: identifies the data (not the
    /// formatting of the JSON), and keys the shuffle so a changed set gets a new order.
    public var contentDigest: [UInt8] {
        var hasher = SHA256()
        for shard in shards { hasher.update(data: Array("\(shard.name)\t\(shard.sha256)\n".utf8)) }
        return Array(hasher.finalize())
    }

    /// Pretty-printed JSON with sorted keys, so equal manifests are equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Reads `DIR/manifest.json` (see ``init(decoding:file:)``).
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RecordsError(file: url.path, reason: .badManifest("cannot read: \(error.localizedDescription)"))
        }
        try self.init(decoding: data, file: url.path)
    }

    /// Parses manifest bytes; `file` names the manifest in errors. Checks the format version,
    /// and everything a reader later trusts: each shard's `name` and `index` a plain file name
    /// (a manifest from someone else must not make a reader open `../../etc/passwd`), its
    /// counts not negative, and at most 256 classes (a record's limit).
    public init(decoding data: Data, file: String) throws {
        do { self = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw RecordsError(file: file, reason: .badManifest("not a valid manifest: \(error)"))
        }
        guard formatVersion == Self.currentFormatVersion else {
            throw RecordsError(file: file, reason: .badManifest(
                "format version \(formatVersion), this reader knows \(Self.currentFormatVersion)"))
        }
        guard classes.count <= SegmentationRecord.maximumClassCount else {
            throw RecordsError(file: file, reason: .badManifest(
                "\(classes.count) classes; a record holds at most \(SegmentationRecord.maximumClassCount)"))
        }
        for (number, shard) in shards.enumerated() {
            for name in [shard.name, shard.index] where !Self.isPlainFileName(name) {
                throw RecordsError(file: file, reason: .badManifest(
                    "shard \(number) names \"\(name)\", which is not a file name inside the manifest's folder"))
            }
            guard shard.records >= 0, shard.bytes >= 0 else {
                throw RecordsError(file: file, reason: .badManifest(
                    "shard \(shard.name) has \(shard.records) records over \(shard.bytes) bytes"))
            }
        }
    }

    /// `directory/name`, refusing a name that is not a plain file name and a symbolic link
    /// whose target lies outside `directory` (a missing file is left for the open to report).
    static func file(named name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        guard isPlainFileName(name) else {
            throw RecordsError(file: url.path, reason: .badManifest("\"\(name)\" is not a file name inside the folder"))
        }
        guard let target = realpath(url.path, nil) else { return url }
        defer { free(target) }
        guard let folder = realpath(directory.path, nil) else { return url }
        defer { free(folder) }
        let (resolved, inside) = (String(cString: target), String(cString: folder))
        guard resolved.hasPrefix(inside == "/" ? "/" : inside + "/") else {
            throw RecordsError(
                file: url.path, reason: .badManifest("a symbolic link to \(resolved), outside the shard set's folder"))
        }
        return url
    }

    /// True for a name that stays in its folder: not empty, `.` or `..`, without a `/` or a NUL.
    public static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/"))
            && !name.utf8.contains(0)
    }

    /// Writes `DIR/manifest.json` atomically.
    public func write(to directory: URL) throws {
        try AtomicFileWriter.write(encoded(), to: directory.appendingPathComponent(Self.fileName).path)
    }
}
