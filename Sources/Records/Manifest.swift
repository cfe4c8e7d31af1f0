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

    /// Reads `DIR/manifest.json`, checking the format version.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RecordsError(file: url.path, reason: .badManifest("cannot read: \(error.localizedDescription)"))
        }
        do { self = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw RecordsError(file: url.path, reason: .badManifest("not a valid manifest: \(error)"))
        }
        guard formatVersion == Self.currentFormatVersion else {
            throw RecordsError(file: url.path, reason: .badManifest(
                "format version \(formatVersion), this reader knows \(Self.currentFormatVersion)"))
        }
    }

    /// Writes `DIR/manifest.json` atomically.
    public func write(to directory: URL) throws {
        try AtomicFileWriter.write(encoded(), to: directory.appendingPathComponent(Self.fileName).path)
    }
}
