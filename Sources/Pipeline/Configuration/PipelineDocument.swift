import Records
import Statistics
import Yams

/// A pipeline file as written, before the source label set is loaded and names resolved
/// (`PipelineConfiguration+Resolution`). Each section has its own small parser below; command-line
/// overrides replace its values (`PipelineOverrides`).
struct PipelineDocument {
    /// The keys a pipeline file may hold at its top level.
    static let topLevelKeys = [
        "source", "images", "labels", "output", "inputs", "classes", "mapping", "ignore", "filter", "resize",
        "partition", "outputs",
    ]

    var source: Located<String>
    var images: String?
    var labels: String?
    var output: String?
    var inputs = InputNaming()
    var inputsLine: Int?
    var classes: [Located<String>]
    var classesLine: Int?
    var mappings: [MappingTable]
    var ignore = IgnoreSection()
    var filter = FilterSection()
    var resize = ResizeSettings()
    var partition = PartitionSettings()
    var outputs = OutputSettings()
    /// Line of `outputs.shards`, for the check against `outputs.prepared`.
    var shardsLine: Int?

    /// One table of `mapping`: for the source set `source`, the source classes of each target.
    struct MappingTable {
        var source: String
        var line: Int?
        var rows: [(target: Located<String>, sources: [Located<String>])]
    }

    /// `ignore`: what the parser's "ignore" value becomes (`reject`, or a target class).
    struct IgnoreSection {
        var value: UInt8 = 255
        var becomes = Located(value: "reject", line: nil)
    }

    /// `filter`: the source classes whose presence drops a sample, and how much of one is too much.
    struct FilterSection {
        var classes: [Located<String>] = []
        var threshold = FilterThreshold.pixels(0)
    }

    /// Reads the file's syntax, keys and kinds of values, section by section, in the file
    /// format's order (so the first error reported is the same whatever the order of the keys).
    init(yaml text: String, file: String) throws {
        let reader = StrictYAML(file: file)
        let top = try reader.mapping(try reader.root(of: text), key: "pipeline", allowed: Self.topLevelKeys)
        let sourceNode = try reader.required(top, "source", parentLine: 1)
        let classesNode = try reader.required(top, "classes", parentLine: 1)
        let mappingNode = try reader.required(top, "mapping", parentLine: 1)
        source = Located(value: try reader.string(sourceNode, key: "source"), line: reader.line(sourceNode))
        images = try reader.optionalString(reader.optional(top, "images"), key: "images")
        labels = try reader.optionalString(reader.optional(top, "labels"), key: "labels")
        output = try reader.optionalString(reader.optional(top, "output"), key: "output")
        if let node = reader.optional(top, "inputs") {
            inputs = try InputNaming(node, reader: reader)
            inputsLine = reader.line(node)
        }
        classes = try reader.strings(classesNode, key: "classes")
        classesLine = reader.line(classesNode)
        mappings = try MappingTable.tables(in: mappingNode, reader: reader)
        if let node = reader.optional(top, "ignore") { ignore = try IgnoreSection(node, reader: reader) }
        if let node = reader.optional(top, "filter") { filter = try FilterSection(node, reader: reader) }
        if let node = reader.optional(top, "resize") { resize = try ResizeSettings(node, reader: reader) }
        if let node = reader.optional(top, "partition") { partition = try PartitionSettings(node, reader: reader) }
        if let node = reader.optional(top, "outputs") {
            (outputs, shardsLine) = try OutputSettings.parse(node, reader: reader)
        }
    }
}

extension PipelineDocument.MappingTable {
    /// `mapping`: one table per source set, one row per target class.
    static func tables(in node: Node, reader: StrictYAML) throws -> [Self] {
        try reader.mapping(node, key: "mapping").map { table in
            let rows = try reader.mapping(table.value, key: "mapping.\(table.key)").map { row in
                // An empty list (`socks: []`) is a class this source never produces.
                let sources = row.value.sequence?.isEmpty == true
                    ? [] : try reader.strings(row.value, key: "mapping.\(table.key).\(row.key)")
                return (target: Located(value: row.key, line: row.line), sources: sources)
            }
            return Self(source: table.key, line: table.line, rows: rows)
        }
    }
}

extension InputNaming {
    /// `inputs`: the suffix that follows a sample's stem in each kind of file's name.
    fileprivate init(_ node: Node, reader: StrictYAML) throws {
        self.init()
        let entries = try reader.mapping(
            node, key: "inputs", allowed: ["photo-suffix", "label-suffix", "instance-suffix"])
        func suffix(_ key: String) throws -> String? {
            guard let value = try reader.optionalString(reader.optional(entries, key), key: "inputs.\(key)") else {
                return nil
            }
            guard !value.isEmpty, !value.contains("/") else {
                throw reader.invalid(
                    reader.optional(entries, key)!, key: "inputs.\(key)",
                    expected: "the end of a file name, e.g. _gtFine_labelIds.png (not empty, no '/')")
            }
            return value
        }
        photoSuffix = try suffix("photo-suffix")
        labelSuffix = try suffix("label-suffix")
        instanceSuffix = try suffix("instance-suffix")
    }
}

extension PipelineDocument.IgnoreSection {
    init(_ node: Node, reader: StrictYAML) throws {
        let entries = try reader.mapping(node, key: "ignore", allowed: ["value", "becomes"])
        if let value = reader.optional(entries, "value") {
            self.value = UInt8(try reader.int(value, key: "ignore.value", range: 0...255))
        }
        let becomes = try reader.required(entries, "becomes", parentLine: reader.line(node))
        self.becomes = Located(value: try reader.string(becomes, key: "ignore.becomes"), line: reader.line(becomes))
    }
}

extension PipelineDocument.FilterSection {
    init(_ node: Node, reader: StrictYAML) throws {
        let entries = try reader.mapping(node, key: "filter", allowed: ["classes", "threshold"])
        if let classes = reader.optional(entries, "classes"), !reader.isNull(classes),
           classes.sequence?.isEmpty != true {
            self.classes = try reader.strings(classes, key: "filter.classes")
        }
        if let threshold = reader.optional(entries, "threshold") {
            self.threshold = try reader.parsed(
                threshold, key: "filter.threshold", expected: "a pixel count (500) or a percentage (0.1%)",
                FilterThreshold.init(parsing:))
        }
    }
}

extension ResizeSettings {
    fileprivate init(_ node: Node, reader: StrictYAML) throws {
        self.init()
        let entries = try reader.mapping(node, key: "resize", allowed: ["size", "train-size", "fit", "photo-filter"])
        if let size = reader.optional(entries, "size") {
            self.size = try reader.parsed(
                size, key: "resize.size", expected: "WIDTHxHEIGHT with both in 1...8192, e.g. 256x256",
                Size.init(parsing:))
        }
        if let size = reader.optional(entries, "train-size"), !reader.isNull(size) {
            trainSize = try reader.parsed(
                size, key: "resize.train-size", expected: "WIDTHxHEIGHT with both in 1...8192, e.g. 286x286",
                Size.init(parsing:))
        }
        if let fit = reader.optional(entries, "fit") { self.fit = try reader.oneOf(fit, key: "resize.fit", Fit.self) }
        if let filter = reader.optional(entries, "photo-filter") {
            photoFilter = try reader.oneOf(filter, key: "resize.photo-filter", PhotoFilter.self)
        }
    }
}

extension PartitionSettings {
    fileprivate init(_ node: Node, reader: StrictYAML) throws {
        self.init()
        let entries = try reader.mapping(node, key: "partition", allowed: ["list", "val-fraction", "folders"])
        list = try reader.optionalString(reader.optional(entries, "list"), key: "partition.list")
        if let fraction = reader.optional(entries, "val-fraction") {
            validationFraction = try reader.double(fraction, key: "partition.val-fraction", range: 0...1)
        }
        if let node = reader.optional(entries, "folders"), !reader.isNull(node) {
            folders = try Self.folders(node, reader: reader)
            if list != nil {
                throw reader.invalid(
                    node, key: "partition.folders", expected: "left out when partition.list is given (one decides)")
            }
        }
    }

    /// `partition.folders`: top-level folder → `train` or `validation`, each folder once.
    private static func folders(_ node: Node, reader: StrictYAML) throws -> [FolderSplit] {
        var folders: [FolderSplit] = []
        for entry in try reader.mapping(node, key: "partition.folders") {
            guard PipelineConfiguration.isUsableInFileNames(entry.key) else {
                throw PipelineFileError(
                    file: reader.file, line: entry.line,
                    reason: .invalidValue(key: "partition.folders", expected: "folder names, got '\(entry.key)'"))
            }
            let split = try reader.oneOf(entry.value, key: "partition.folders.\(entry.key)", DataSplit.self)
            folders.append(FolderSplit(folder: entry.key, split: split))
        }
        guard !folders.isEmpty else {
            throw reader.invalid(node, key: "partition.folders", expected: "at least one folder, e.g. train: train")
        }
        return folders
    }
}

extension OutputSettings {
    /// `outputs`, and the line of its `shards` entry when it has one.
    fileprivate static func parse(_ node: Node, reader: StrictYAML) throws -> (OutputSettings, shardsLine: Int?) {
        var outputs = OutputSettings()
        let entries = try reader.mapping(
            node, key: "outputs", allowed: ["prepared", "split", "photo-quality", "shards"])
        if let prepared = reader.optional(entries, "prepared") {
            outputs.prepared = try reader.bool(prepared, key: "outputs.prepared")
        }
        if let split = reader.optional(entries, "split") {
            outputs.split = try reader.bool(split, key: "outputs.split")
        }
        if let quality = reader.optional(entries, "photo-quality") {
            outputs.photoQuality = try reader.int(quality, key: "outputs.photo-quality", range: 1...100)
        }
        guard let shards = entries.first(where: { $0.key == "shards" }) else { return (outputs, nil) }
        outputs.shards = try ShardSettings.parse(shards.value, reader: reader)
        return (outputs, shards.line)
    }
}

extension ShardSettings {
    /// `outputs.shards`: null (no shards), or a mapping with `directory` and optionally one of
    /// `records-per-shard` / `shard-size`, `image` and `label`, spelt as `smisprep shard`'s options.
    fileprivate static func parse(_ node: Node, reader: StrictYAML) throws -> ShardSettings? {
        if reader.isNull(node) { return nil }
        let key = "outputs.shards"
        let entries = try reader.mapping(
            node, key: key, allowed: ["directory", "records-per-shard", "shard-size", "image", "label"])
        let directory = try reader.required(entries, "directory", parentLine: reader.line(node))
        var settings = ShardSettings(directory: try reader.string(directory, key: "\(key).directory"))
        let records = reader.optional(entries, "records-per-shard"), size = reader.optional(entries, "shard-size")
        if let records, let size {
            throw PipelineFileError(
                file: reader.file, line: max(reader.line(records) ?? 0, reader.line(size) ?? 0),
                reason: .invalidValue(key: key, expected: "given either records-per-shard or shard-size, not both"))
        }
        if let records {
            let count = try reader.int(records, key: "\(key).records-per-shard", range: 1...1_000_000_000)
            settings.sizing = .records(count)
        }
        if let size {
            let bytes = try reader.parsed(
                size, key: "\(key).shard-size", expected: "a size such as 256MB, 64MiB or 4096",
                ShardSizing.byteCount(parsing:))
            settings.sizing = .bytes(bytes)
        }
        if let image = reader.optional(entries, "image") {
            settings.image = try reader.parsed(
                image, key: "\(key).image", expected: "jpeg, jpeg:Q with Q in 1...100, png or raw",
                SegmentationRecord.ImageEncoding.init(parsing:))
        }
        if let label = reader.optional(entries, "label") {
            settings.label = try reader.oneOf(label, key: "\(key).label", SegmentationRecord.LabelEncoding.self)
        }
        return settings
    }
}
