import Foundation
import Statistics
import Yams

/// A parser's source label set, read from its file (`Pipelines/sources/lip.yaml`): never
/// hard-coded, so a parser trained on another data set is a new file, not new code.
extension LabelSet {
    /// Reads a source label-set file:
    ///
    /// ```yaml
    /// name: lip
    /// classes:
    ///   0: background
    ///   1: hat
    /// ```
    ///
    /// Ids must be integers in 0...254 (255 is the parsers' "ignore" value, handled by the
    /// pipeline's `ignore` rule), each id and each name once.
    /// - Throws: `PipelineFileError` naming the file and line.
    public init(contentsOfFile path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineFileError(file: path, line: nil, reason: .unreadable(error.localizedDescription))
        }
        try self.init(yaml: text, file: path)
    }

    /// Parses label-set YAML; `file` names it in errors.
    public init(yaml text: String, file: String) throws {
        let reader = StrictYAML(file: file)
        let root = try reader.root(of: text)
        let entries = try reader.mapping(root, key: "label set", allowed: ["name", "classes"])
        let name = try reader.string(try reader.required(entries, "name", parentLine: 1), key: "name")
        let classesNode = try reader.required(entries, "classes", parentLine: 1)
        var classes: [Int: String] = [:]
        var seenNames: Set<String> = []
        for entry in try reader.mapping(classesNode, key: "classes") {
            guard let id = Int(entry.key), (0...254).contains(id) else {
                throw PipelineFileError(
                    file: file, line: entry.line,
                    reason: .invalidValue(
                        key: "classes", expected: "keyed by integer ids in 0...254, got '\(entry.key)'"))
            }
            let className = try reader.string(entry.value, key: "classes.\(id)")
            guard seenNames.insert(className).inserted else {
                throw PipelineFileError(file: file, line: entry.line, reason: .duplicated("class name '\(className)'"))
            }
            if classes[id] != nil {
                // "01" and "1" are different YAML keys but the same id.
                throw PipelineFileError(file: file, line: entry.line, reason: .duplicated("source id \(id)"))
            }
            classes[id] = className
        }
        self.init(source: name, classes: classes)
    }
}

extension LabelSet {
    /// Whether a `source` value names a label-set file by its path (it has a `/` or ends in
    /// `.yaml` or `.yml`) rather than a set by its name (`lip`).
    public static func isPath(_ reference: String) -> Bool {
        reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml")
    }

    /// The file a `source` value names: a path as written, a name as `NAME.yaml` in
    /// `sourcesFolder` (`lip` → `Pipelines/sources/lip.yaml`).
    public static func sourceFile(for reference: String, sourcesFolder: URL) -> String {
        isPath(reference) ? reference : sourcesFolder.appendingPathComponent("\(reference).yaml").path
    }
}
