import Foundation
import Records
import Statistics
import Yams

/// Values that replace a pipeline file's settings before it is checked, e.g. from the command
/// line of `smisprep deepfashion`. Nil leaves the file's value.
public struct PipelineOverrides: Equatable, Sendable {
    public var source: String?
    public var images: String?
    public var labels: String?
    public var output: String?
    public var filterClasses: [String]?
    public var filterThreshold: FilterThreshold?
    public var size: (width: Int, height: Int)?
    public var fit: ResizeSettings.Fit?
    public var partitionList: String?
    public var validationFraction: Double?
    public var writeSplit: Bool?
    /// Shard folder: adds `outputs.shards` (or moves the file's).
    public var shardDirectory: String?
    /// Shard sizing, image and label encodings: replace the values of `outputs.shards`, which
    /// must then exist (in the file or through `shardDirectory`).
    public var shardSizing: ShardSizing?
    public var shardImage: SegmentationRecord.ImageEncoding?
    public var shardLabel: SegmentationRecord.LabelEncoding?

    public init() {}

    public static func == (lhs: PipelineOverrides, rhs: PipelineOverrides) -> Bool {
        lhs.source == rhs.source && lhs.images == rhs.images && lhs.labels == rhs.labels
            && lhs.output == rhs.output && lhs.filterClasses == rhs.filterClasses
            && lhs.filterThreshold == rhs.filterThreshold && lhs.size?.width == rhs.size?.width
            && lhs.size?.height == rhs.size?.height && lhs.fit == rhs.fit
            && lhs.partitionList == rhs.partitionList && lhs.validationFraction == rhs.validationFraction
            && lhs.writeSplit == rhs.writeSplit && lhs.shardDirectory == rhs.shardDirectory
            && lhs.shardSizing == rhs.shardSizing && lhs.shardImage == rhs.shardImage && lhs.shardLabel == rhs.shardLabel
    }
}

/// Where a value came from, for error messages: a line of the file or the command line.
private struct Located<Value> {
    var value: Value
    var line: Int?
}

/// The pipeline file as written, before the source label set is loaded and names resolved.
private struct PipelineDocument {
    var source: Located<String>
    var images: String?
    var labels: String?
    var output: String?
    var classes: [Located<String>]
    var classesLine: Int?
    /// source name → [(target name, source class names)]
    var mappings: [(source: String, line: Int?, rows: [(target: Located<String>, sources: [Located<String>])])]
    var ignoreValue: UInt8
    var ignoreBecomes: Located<String>
    var filterClasses: [Located<String>]
    var threshold: FilterThreshold
    var resize: ResizeSettings
    var partition: PartitionSettings
    var outputs: OutputSettings
    /// Line of `outputs.shards`, for the check against `outputs.prepared`.
    var shardsLine: Int?
}

extension PipelineConfiguration {
    /// The keys a pipeline file may hold at its top level.
    static let topLevelKeys = [
        "source", "images", "labels", "output", "classes", "mapping", "ignore", "filter", "resize",
        "partition", "outputs",
    ]

    /// Reads and checks a pipeline file, applying `overrides` first.
    ///
    /// A `source` given by name (`lip`) is read from `sources/<name>.yaml` beside the file; a
    /// value with a `/` or ending in `.yaml` is a path, relative to the file's folder.
    /// - Throws: `PipelineFileError` with the file and line: unknown (misspelt) key, unknown
    ///   target or source class, a source id mapped twice or not at all, a value out of range.
    public init(contentsOfFile path: String, overrides: PipelineOverrides = PipelineOverrides()) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineFileError(file: path, line: nil, reason: .unreadable(error.localizedDescription))
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var sourceFile: String?
        try self.init(yaml: text, file: path, overrides: overrides) { reference in
            sourceFile = Self.sourcePath(for: reference, besideFolder: folder)
            return try LabelSet(contentsOfFile: sourceFile!)
        }
        self.sourceFile = sourceFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// Parses pipeline YAML. `loadSource` turns the `source` value into a label set (tests pass
    /// in-memory sets).
    public init(
        yaml text: String, file: String, overrides: PipelineOverrides = PipelineOverrides(),
        loadSource: (String) throws -> LabelSet
    ) throws {
        var document = try Self.parse(text, file: file)
        try Self.apply(overrides, to: &document)
        try self.init(document: document, file: file, loadSource: loadSource)
    }

    /// `lip` → `FOLDER/sources/lip.yaml`; a path stays a path (relative to `folder`).
    public static func sourcePath(for reference: String, besideFolder folder: String) -> String {
        let isPath = reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml")
        let relative = isPath ? reference : "sources/\(reference).yaml"
        if relative.hasPrefix("/") { return relative }
        return URL(fileURLWithPath: folder).appendingPathComponent(relative).standardizedFileURL.path
    }

    // MARK: Parsing (syntax, keys and kinds of values)

    private static func parse(_ text: String, file: String) throws -> PipelineDocument {
        let reader = StrictYAML(file: file)
        let root = try reader.root(of: text)
        let top = try reader.mapping(root, key: "pipeline", allowed: topLevelKeys)
        let sourceNode = try reader.required(top, "source", parentLine: 1)
        let classesNode = try reader.required(top, "classes", parentLine: 1)
        let mappingNode = try reader.required(top, "mapping", parentLine: 1)

        var document = PipelineDocument(
            source: Located(value: try reader.string(sourceNode, key: "source"), line: reader.line(sourceNode)),
            images: try reader.optionalString(reader.optional(top, "images"), key: "images"),
            labels: try reader.optionalString(reader.optional(top, "labels"), key: "labels"),
            output: try reader.optionalString(reader.optional(top, "output"), key: "output"),
            classes: try reader.strings(classesNode, key: "classes").map { Located(value: $0.value, line: $0.line) },
            classesLine: reader.line(classesNode),
            mappings: [],
            ignoreValue: 255, ignoreBecomes: Located(value: "reject", line: nil),
            filterClasses: [], threshold: .pixels(0),
            resize: ResizeSettings(), partition: PartitionSettings(), outputs: OutputSettings())

        for table in try reader.mapping(mappingNode, key: "mapping") {
            var rows: [(target: Located<String>, sources: [Located<String>])] = []
            for row in try reader.mapping(table.value, key: "mapping.\(table.key)") {
                // An empty list (`socks: []`) is a class this source never produces.
                let sources = row.value.sequence?.isEmpty == true
                    ? [] : try reader.strings(row.value, key: "mapping.\(table.key).\(row.key)")
                rows.append((Located(value: row.key, line: row.line), sources.map { Located(value: $0.value, line: $0.line) }))
            }
            document.mappings.append((table.key, table.line, rows))
        }

        if let ignoreNode = reader.optional(top, "ignore") {
            let entries = try reader.mapping(ignoreNode, key: "ignore", allowed: ["value", "becomes"])
            if let value = reader.optional(entries, "value") {
                document.ignoreValue = UInt8(try reader.int(value, key: "ignore.value", range: 0...255))
            }
            let becomes = try reader.required(entries, "becomes", parentLine: reader.line(ignoreNode))
            document.ignoreBecomes = Located(value: try reader.string(becomes, key: "ignore.becomes"), line: reader.line(becomes))
        }

        if let filterNode = reader.optional(top, "filter") {
            let entries = try reader.mapping(filterNode, key: "filter", allowed: ["classes", "threshold"])
            if let classes = reader.optional(entries, "classes"), !reader.isNull(classes),
                classes.sequence?.isEmpty != true {
                document.filterClasses = try reader.strings(classes, key: "filter.classes").map { Located(value: $0.value, line: $0.line) }
            }
            if let thresholdNode = reader.optional(entries, "threshold") {
                guard let threshold = FilterThreshold(parsing: try reader.string(thresholdNode, key: "filter.threshold")) else {
                    throw PipelineFileError(
                        file: file, line: reader.line(thresholdNode),
                        reason: .invalidValue(key: "filter.threshold", expected: "a pixel count (500) or a percentage (0.1%)"))
                }
                document.threshold = threshold
            }
        }

        if let resizeNode = reader.optional(top, "resize") {
            let entries = try reader.mapping(resizeNode, key: "resize", allowed: ["size", "fit", "photo-filter"])
            if let sizeNode = reader.optional(entries, "size") {
                guard let size = parseSize(try reader.string(sizeNode, key: "resize.size")) else {
                    throw PipelineFileError(
                        file: file, line: reader.line(sizeNode),
                        reason: .invalidValue(key: "resize.size", expected: "WIDTHxHEIGHT with both in 1...8192, e.g. 256x256"))
                }
                document.resize.width = size.width
                document.resize.height = size.height
            }
            if let fit = reader.optional(entries, "fit") {
                document.resize.fit = try reader.oneOf(fit, key: "resize.fit", ResizeSettings.Fit.self)
            }
            if let filter = reader.optional(entries, "photo-filter") {
                document.resize.photoFilter = try reader.oneOf(filter, key: "resize.photo-filter", ResizeSettings.PhotoFilter.self)
            }
        }

        if let partitionNode = reader.optional(top, "partition") {
            let entries = try reader.mapping(partitionNode, key: "partition", allowed: ["list", "val-fraction"])
            document.partition.list = try reader.optionalString(reader.optional(entries, "list"), key: "partition.list")
            if let fraction = reader.optional(entries, "val-fraction") {
                document.partition.validationFraction = try reader.double(fraction, key: "partition.val-fraction", range: 0...1)
            }
        }

        if let outputsNode = reader.optional(top, "outputs") {
            let entries = try reader.mapping(outputsNode, key: "outputs", allowed: ["prepared", "split", "photo-quality", "shards"])
            if let prepared = reader.optional(entries, "prepared") {
                document.outputs.prepared = try reader.bool(prepared, key: "outputs.prepared")
            }
            if let split = reader.optional(entries, "split") {
                document.outputs.split = try reader.bool(split, key: "outputs.split")
            }
            if let quality = reader.optional(entries, "photo-quality") {
                document.outputs.photoQuality = try reader.int(quality, key: "outputs.photo-quality", range: 1...100)
            }
            if let shards = entries.first(where: { $0.key == "shards" }) {
                document.outputs.shards = try parseShards(shards.value, reader: reader)
                document.shardsLine = shards.line
            }
        }
        return document
    }

    /// `outputs.shards`: null (no shards), or a mapping with `directory` and optionally one of
    /// `records-per-shard` / `shard-size`, `image` and `label`, spelt as `smisprep shard`'s options.
    private static func parseShards(_ node: Node, reader: StrictYAML) throws -> ShardSettings? {
        if reader.isNull(node) { return nil }
        let entries = try reader.mapping(
            node, key: "outputs.shards", allowed: ["directory", "records-per-shard", "shard-size", "image", "label"])
        let directory = try reader.required(entries, "directory", parentLine: reader.line(node))
        var settings = ShardSettings(directory: try reader.string(directory, key: "outputs.shards.directory"))
        let records = reader.optional(entries, "records-per-shard"), size = reader.optional(entries, "shard-size")
        if let records, let size {
            throw PipelineFileError(
                file: reader.file, line: max(reader.line(records) ?? 0, reader.line(size) ?? 0),
                reason: .invalidValue(key: "outputs.shards", expected: "given either records-per-shard or shard-size, not both"))
        }
        if let records {
            settings.sizing = .records(try reader.int(records, key: "outputs.shards.records-per-shard", range: 1...1_000_000_000))
        }
        if let size {
            guard let bytes = ShardSizing.byteCount(parsing: try reader.string(size, key: "outputs.shards.shard-size")) else {
                throw PipelineFileError(file: reader.file, line: reader.line(size),
                                        reason: .invalidValue(key: "outputs.shards.shard-size", expected: "a size such as 256MB, 64MiB or 4096"))
            }
            settings.sizing = .bytes(bytes)
        }
        if let image = reader.optional(entries, "image") {
            guard let encoding = SegmentationRecord.ImageEncoding(parsing: try reader.string(image, key: "outputs.shards.image")) else {
                throw PipelineFileError(file: reader.file, line: reader.line(image),
                                        reason: .invalidValue(key: "outputs.shards.image", expected: "jpeg, jpeg:Q with Q in 1...100, png or raw"))
            }
            settings.image = encoding
        }
        if let label = reader.optional(entries, "label") {
            settings.label = try reader.oneOf(label, key: "outputs.shards.label", SegmentationRecord.LabelEncoding.self)
        }
        return settings
    }

    private static func apply(_ overrides: PipelineOverrides, to document: inout PipelineDocument) throws {
        if let source = overrides.source { document.source = Located(value: source, line: nil) }
        if let images = overrides.images { document.images = images }
        if let labels = overrides.labels { document.labels = labels }
        if let output = overrides.output { document.output = output }
        if let classes = overrides.filterClasses { document.filterClasses = classes.map { Located(value: $0, line: nil) } }
        if let threshold = overrides.filterThreshold { document.threshold = threshold }
        if let size = overrides.size {
            document.resize.width = size.width
            document.resize.height = size.height
        }
        if let fit = overrides.fit { document.resize.fit = fit }
        if let list = overrides.partitionList { document.partition.list = list }
        if let fraction = overrides.validationFraction { document.partition.validationFraction = fraction }
        if let split = overrides.writeSplit { document.outputs.split = split }
        try applyShardOverrides(overrides, to: &document)
    }

    private static func applyShardOverrides(_ overrides: PipelineOverrides, to document: inout PipelineDocument) throws {
        if let directory = overrides.shardDirectory {
            if document.outputs.shards == nil { document.shardsLine = nil }
            document.outputs.shards = document.outputs.shards ?? ShardSettings(directory: directory)
            document.outputs.shards!.directory = directory
        }
        let changesSettings = overrides.shardSizing != nil || overrides.shardImage != nil || overrides.shardLabel != nil
        guard changesSettings else { return }
        guard var shards = document.outputs.shards else {
            throw PipelineFileError(
                file: "command line", line: nil,
                reason: .invalidValue(key: "outputs.shards", expected: "given (--shards DIR) for the shard size and encoding options to apply"))
        }
        if let sizing = overrides.shardSizing { shards.sizing = sizing }
        if let image = overrides.shardImage { shards.image = image }
        if let label = overrides.shardLabel { shards.label = label }
        document.outputs.shards = shards
    }

    // MARK: Resolution (names against the class list and the source label set)

    private init(document: PipelineDocument, file: String, loadSource: (String) throws -> LabelSet) throws {
        // Only values given as overrides have no line: name the command line, not the file.
        func fail(_ line: Int?, _ reason: PipelineFileError.Reason) -> PipelineFileError {
            PipelineFileError(file: line == nil ? "command line" : file, line: line, reason: reason)
        }
        let source = try loadSource(document.source.value)

        var names: [String] = []
        for name in document.classes {
            guard !names.contains(name.value) else { throw fail(name.line, .duplicated("class '\(name.value)'")) }
            // Class names become file names (`split/STEM/ID-NAME.png`, the contact sheet).
            guard Self.isUsableInFileNames(name.value) else {
                throw fail(name.line, .invalidValue(
                    key: "classes", expected: "names usable in file names (not empty, no '/', no control characters, not '.' or '..'); got '\(name.value)'"))
            }
            names.append(name.value)
        }
        guard !names.isEmpty, names.count <= 255 else {
            throw fail(document.classesLine, .invalidValue(key: "classes", expected: "a list of 1...255 class names"))
        }

        var mappingsBySource: [String: [[String]]] = [:]
        for table in document.mappings {
            var perTarget = [[String]](repeating: [], count: names.count)
            var listed = Set<String>()
            for row in table.rows {
                guard let target = names.firstIndex(of: row.target.value) else {
                    throw fail(row.target.line, .unknownTargetClass(row.target.value))
                }
                guard listed.insert(row.target.value).inserted else {
                    throw fail(row.target.line, .duplicated("class '\(row.target.value)'"))
                }
                perTarget[target] = row.sources.map(\.value)
            }
            mappingsBySource[table.source] = perTarget
        }

        guard let activeTable = document.mappings.first(where: { $0.source == source.name }) else {
            throw fail(document.source.line, .missingMapping(source: source.name))
        }
        var sourceIDsByTarget = [[Int]](repeating: [], count: names.count)
        var mappedTo: [Int: String] = [:]
        for row in activeTable.rows {
            let target = names.firstIndex(of: row.target.value)!
            for sourceName in row.sources {
                guard let id = Self.sourceID(sourceName.value, in: source) else {
                    throw fail(sourceName.line, .unknownSourceClass(sourceName.value, source: source.name))
                }
                if let earlier = mappedTo[id] {
                    throw fail(sourceName.line, .duplicated("source id \(id) (\(source.name(of: id)!), already in '\(earlier)')"))
                }
                mappedTo[id] = row.target.value
                sourceIDsByTarget[target].append(id)
            }
        }
        if let unmapped = source.ids.first(where: { mappedTo[$0] == nil }) {
            throw fail(activeTable.line, .unmappedSourceID(unmapped, name: source.name(of: unmapped)!, source: source.name))
        }

        let ignore: IgnoreRule
        if source.contains(Int(document.ignoreValue)) {
            throw fail(document.ignoreBecomes.line, .invalidValue(key: "ignore.value", expected: "a value that is not a source id"))
        }
        if document.ignoreBecomes.value == "reject" {
            ignore = IgnoreRule(value: document.ignoreValue, becomes: nil)
        } else if let target = names.firstIndex(of: document.ignoreBecomes.value) {
            ignore = IgnoreRule(value: document.ignoreValue, becomes: target)
        } else {
            throw fail(document.ignoreBecomes.line, .unknownTargetClass(document.ignoreBecomes.value))
        }

        if document.outputs.shards != nil && !document.outputs.prepared {
            throw fail(document.shardsLine, .invalidValue(
                key: "outputs.shards", expected: "left out when outputs.prepared is false (shards are packed from the prepared folders)"))
        }

        var filterIDs: [Int] = []
        for name in document.filterClasses {
            guard let id = Self.sourceID(name.value, in: source) else {
                throw fail(name.line, .unknownSourceClass(name.value, source: source.name))
            }
            filterIDs.append(id)
        }

        self.init(
            sourceReference: document.source.value, source: source,
            images: document.images, labels: document.labels, output: document.output,
            classMapping: ClassMapping(targets: names, sourceIDsByTarget: sourceIDsByTarget, mappingsBySource: mappingsBySource),
            ignore: ignore,
            filter: RareAttributeFilter(classNames: document.filterClasses.map(\.value), sourceIDs: filterIDs, threshold: document.threshold),
            resize: document.resize, partition: document.partition, outputs: document.outputs)
    }

    /// A source class by name, or by its id written as a number.
    private static func sourceID(_ nameOrID: String, in source: LabelSet) -> Int? {
        if let id = source.id(named: nameOrID) { return id }
        if let id = Int(nameOrID), source.contains(id) { return id }
        return nil
    }
}

/// `256x256` (or `256×256`) → (256, 256); nil unless both are in 1...8192.
public func parseSize(_ text: String) -> (width: Int, height: Int)? {
    // Empty parts kept, so that `256x256x` and `x256x256` are refused rather than read as 256x256.
    let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count == 2, let width = Int(parts[0].trimmingCharacters(in: .whitespaces)),
        let height = Int(parts[1].trimmingCharacters(in: .whitespaces)),
        (1...8192).contains(width), (1...8192).contains(height)
    else { return nil }
    return (width, height)
}

extension PipelineConfiguration {
    /// Whether `name` can be part of a file name on every common file system.
    static func isUsableInFileNames(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
