import Statistics

extension PipelineConfiguration {
    /// Resolves a document's names against its class list and the source label set, in the
    /// order a reader checks them: classes, mapping tables, the active table, ignore, outputs,
    /// filter.
    init(document: PipelineDocument, file: String, loadSource: (String) throws -> LabelSet) throws {
        let resolution = NameResolution(file: file)
        let source = try loadSource(document.source.value)
        let names = try resolution.classNames(document.classes, line: document.classesLine)
        let mappingsBySource = try resolution.mappingsBySource(document.mappings, names: names)
        let sourceIDsByTarget = try resolution.sourceIDsByTarget(document, source: source, names: names)
        let ignore = try resolution.ignoreRule(document.ignore, source: source, names: names)
        if document.outputs.shards != nil && !document.outputs.prepared {
            throw resolution.fail(
                document.shardsLine,
                .invalidValue(
                    key: "outputs.shards",
                    expected: "left out when outputs.prepared is false (shards are packed from the prepared folders)"))
        }
        let filterIDs = try document.filter.classes.map { try resolution.sourceID($0, in: source) }
        if document.inputs.instanceSuffix != nil && document.inputs.labelSuffix == nil {
            throw resolution.fail(
                document.inputsLine,
                .invalidValue(
                    key: "inputs.instance-suffix",
                    expected: "given with inputs.label-suffix (by extension alone, instance maps would be "
                        + "taken for label maps)"
                ))
        }
        self.init(
            sourceReference: document.source.value, source: source,
            images: document.images, labels: document.labels, output: document.output, inputs: document.inputs,
            classMapping: ClassMapping(
                targets: names, sourceIDsByTarget: sourceIDsByTarget, mappingsBySource: mappingsBySource),
            ignore: ignore,
            filter: RareAttributeFilter(
                classNames: document.filter.classes.map(\.value), sourceIDs: filterIDs,
                threshold: document.filter.threshold),
            resize: document.resize, partition: document.partition, outputs: document.outputs)
    }

    /// Whether `name` can be part of a file name on every common file system.
    static func isUsableInFileNames(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

/// The name checks of a pipeline file, each naming the line of the offending value.
private struct NameResolution {
    let file: String

    /// The error at `line`; only values given as overrides have no line: those name the
    /// command line, not the file.
    func fail(_ line: Int?, _ reason: PipelineFileError.Reason) -> PipelineFileError {
        PipelineFileError(file: line == nil ? "command line" : file, line: line, reason: reason)
    }

    /// `classes`: unique names usable in file names, 1...255 of them.
    func classNames(_ classes: [Located<String>], line: Int?) throws -> [String] {
        var names: [String] = []
        for name in classes {
            guard !names.contains(name.value) else { throw fail(name.line, .duplicated("class '\(name.value)'")) }
            // Class names become file names (`split/STEM/ID-NAME.png`, the contact sheet).
            guard PipelineConfiguration.isUsableInFileNames(name.value) else {
                throw fail(
                    name.line,
                    .invalidValue(
                        key: "classes",
                        expected:
                            "names usable in file names (not empty, no '/', no control characters, not '.' or '..'); "
                            + "got '\(name.value)'"))
            }
            names.append(name.value)
        }
        guard !names.isEmpty, names.count <= 255 else {
            throw fail(line, .invalidValue(key: "classes", expected: "a list of 1...255 class names"))
        }
        return names
    }

    /// Every table of `mapping`, by source name, as source class names per target id; each row
    /// a listed target class, each once.
    func mappingsBySource(_ tables: [PipelineDocument.MappingTable], names: [String]) throws -> [String: [[String]]] {
        var mappingsBySource: [String: [[String]]] = [:]
        for table in tables {
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
        return mappingsBySource
    }

    /// The active source set's table as source ids per target id: every source id mapped
    /// exactly once.
    func sourceIDsByTarget(_ document: PipelineDocument, source: LabelSet, names: [String]) throws -> [[Int]] {
        guard let table = document.mappings.first(where: { $0.source == source.name }) else {
            throw fail(document.source.line, .missingMapping(source: source.name))
        }
        var sourceIDsByTarget = [[Int]](repeating: [], count: names.count)
        var mappedTo: [Int: String] = [:]
        for row in table.rows {
            let target = names.firstIndex(of: row.target.value)!
            for sourceName in row.sources {
                let id = try sourceID(sourceName, in: source)
                if let earlier = mappedTo[id] {
                    let what = "source id \(id) (\(source.name(of: id)!), already in '\(earlier)')"
                    throw fail(sourceName.line, .duplicated(what))
                }
                mappedTo[id] = row.target.value
                sourceIDsByTarget[target].append(id)
            }
        }
        if let unmapped = source.ids.first(where: { mappedTo[$0] == nil }) {
            throw fail(table.line, .unmappedSourceID(unmapped, name: source.name(of: unmapped)!, source: source.name))
        }
        return sourceIDsByTarget
    }

    /// `ignore`: a value outside the source set that is rejected or becomes a target class.
    func ignoreRule(_ ignore: PipelineDocument.IgnoreSection, source: LabelSet, names: [String]) throws -> IgnoreRule {
        if source.contains(Int(ignore.value)) {
            throw fail(
                ignore.becomes.line, .invalidValue(key: "ignore.value", expected: "a value that is not a source id"))
        }
        if ignore.becomes.value == "reject" { return IgnoreRule(value: ignore.value, becomes: nil) }
        guard let target = names.firstIndex(of: ignore.becomes.value) else {
            throw fail(ignore.becomes.line, .unknownTargetClass(ignore.becomes.value))
        }
        return IgnoreRule(value: ignore.value, becomes: target)
    }

    /// A source class by name, or by its id written as a number.
    func sourceID(_ nameOrID: Located<String>, in source: LabelSet) throws -> Int {
        if let id = source.id(named: nameOrID.value) { return id }
        if let id = Int(nameOrID.value), source.contains(id) { return id }
        throw fail(nameOrID.line, .unknownSourceClass(nameOrID.value, source: source.name))
    }
}
