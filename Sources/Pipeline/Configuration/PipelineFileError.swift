/// Why a pipeline or label-set file was refused. Always names the file and, when the problem
/// sits at a place in it, the line (1-based) so the user can go straight there.
public struct PipelineFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The file could not be read.
        case unreadable(String)
        /// Not valid YAML (the parser's message).
        case syntax(String)
        /// A key the format does not have; `suggestion` is the closest known key.
        case unknownKey(String, suggestion: String?)
        /// A required key is absent.
        case missingKey(String)
        /// A value of the wrong kind or out of range.
        case invalidValue(key: String, expected: String)
        /// A source class name (or id) the source label set does not have.
        case unknownSourceClass(String, source: String)
        /// A target class name not in `classes`.
        case unknownTargetClass(String)
        /// A source id or a class name given twice.
        case duplicated(String)
        /// A source id no target class lists.
        case unmappedSourceID(Int, name: String, source: String)
        /// The mapping for the chosen source set is absent.
        case missingMapping(source: String)
    }

    /// The file's path as given.
    public let file: String
    /// 1-based line, when known.
    public let line: Int?
    public let reason: Reason

    public init(file: String, line: Int?, reason: Reason) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .unreadable(let message): return "cannot read file: \(message)"
        case .syntax(let message): return "not valid YAML: \(message)"
        case .unknownKey(let key, let suggestion):
            return "unknown key '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .missingKey(let key): return "missing key '\(key)'"
        case .invalidValue(let key, let expected): return "'\(key)' must be \(expected)"
        case .unknownSourceClass(let name, let source):
            return "unknown class '\(name)': the source label set '\(source)' has no such class"
        case .unknownTargetClass(let name): return "unknown class '\(name)': not listed in 'classes'"
        case .duplicated(let what): return "\(what) given twice"
        case .unmappedSourceID(let id, let name, let source):
            return "source id \(id) (\(name)) of '\(source)' is mapped to no class"
        case .missingMapping(let source): return "'mapping' has no table for the source '\(source)'"
        }
    }
}
