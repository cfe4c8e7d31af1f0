import Foundation
import Statistics

extension PipelineConfiguration {
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
        var document = try PipelineDocument(yaml: text, file: file)
        try document.apply(overrides)
        try self.init(document: document, file: file, loadSource: loadSource)
    }

    /// `lip` → `FOLDER/sources/lip.yaml`; a path stays a path (relative to `folder`). Made
    /// absolute and standardized (no `.` or `..`), except an absolute path, kept as written.
    public static func sourcePath(for reference: String, besideFolder folder: String) -> String {
        if reference.hasPrefix("/") { return reference }
        let folder = URL(fileURLWithPath: folder)
        let file = LabelSet.isPath(reference)
            ? folder.appendingPathComponent(reference).path
            : LabelSet.sourceFile(for: reference, sourcesFolder: folder.appendingPathComponent("sources"))
        return URL(fileURLWithPath: file).standardizedFileURL.path
    }
}
