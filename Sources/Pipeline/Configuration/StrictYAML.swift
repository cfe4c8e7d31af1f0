import Foundation
import Yams

/// A thin strict reader over Yams's node tree: every accessor checks the kind of value and
/// the set of keys, and every failure carries the file and the line of the offending node.
/// Why not `Decodable`: it loses line numbers and silently ignores unknown (misspelt) keys.
struct StrictYAML {
    /// A mapping's entry: its key, its value and the key's line.
    typealias Entry = (key: String, value: Node, line: Int?)

    let file: String

    func line(_ node: Node) -> Int? { node.mark?.line }

    /// Parses a whole document; an empty document is an empty mapping.
    func root(of text: String) throws -> Node {
        do {
            return try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            let keys = duplicates.map { "key '\($0)'" }.joined(separator: ", ")
            throw PipelineFileError(file: file, line: context.mark.line, reason: .duplicated(keys))
        } catch let error as YamlError {
            throw PipelineFileError(file: file, line: Self.line(of: error), reason: .syntax(Self.problem(of: error)))
        } catch {
            throw PipelineFileError(file: file, line: nil, reason: .syntax(String(describing: error)))
        }
    }

    /// The mapping's entries by key, refusing keys outside `allowed` and non-scalar keys.
    func mapping(_ node: Node, key: String, allowed: [String]? = nil) throws -> [Entry] {
        guard let mapping = node.mapping else { throw invalid(node, key: key, expected: "a mapping") }
        return try mapping.map { entry in
            guard let name = entry.key.scalar?.string else {
                throw invalid(entry.key, key: key, expected: "a mapping with plain keys")
            }
            if let allowed, !allowed.contains(name) {
                throw PipelineFileError(
                    file: file, line: line(entry.key),
                    reason: .unknownKey(name, suggestion: closest(to: name, in: allowed)))
            }
            return (name, entry.value, line(entry.key))
        }
    }

    /// The value of `key` in `entries`, or throws `.missingKey` at `parentLine`.
    func required(_ entries: [Entry], _ key: String, parentLine: Int?) throws -> Node {
        guard let entry = entries.first(where: { $0.key == key }) else {
            throw PipelineFileError(file: file, line: parentLine, reason: .missingKey(key))
        }
        return entry.value
    }

    func optional(_ entries: [Entry], _ key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func isNull(_ node: Node) -> Bool { node.null != nil }

    func string(_ node: Node, key: String) throws -> String {
        guard let scalar = node.scalar, node.null == nil else {
            throw invalid(node, key: key, expected: "a text value")
        }
        return scalar.string
    }

    /// A string, or nil for `null` / `~` / an empty value.
    func optionalString(_ node: Node?, key: String) throws -> String? {
        guard let node, !isNull(node) else { return nil }
        return try string(node, key: key)
    }

    func int(_ node: Node, key: String, range: ClosedRange<Int>) throws -> Int {
        try value(node.int, in: range, of: node, key: key, expected: "an integer")
    }

    func double(_ node: Node, key: String, range: ClosedRange<Double>) throws -> Double {
        try value(node.float, in: range, of: node, key: key, expected: "a number")
    }

    /// `value` when it is in `range`; else `.invalidValue` at the node's line, naming the range.
    private func value<Number: Comparable>(
        _ value: Number?, in range: ClosedRange<Number>, of node: Node, key: String, expected: String
    ) throws -> Number {
        guard let value, range.contains(value) else {
            throw invalid(node, key: key, expected: "\(expected) in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func bool(_ node: Node, key: String) throws -> Bool {
        guard let value = node.bool else { throw invalid(node, key: key, expected: "true or false") }
        return value
    }

    /// A sequence of text values (a single value counts as a one-element list), with lines.
    func strings(_ node: Node, key: String) throws -> [Located<String>] {
        if let sequence = node.sequence {
            return try sequence.map { Located(value: try string($0, key: key), line: line($0)) }
        }
        return [Located(value: try string(node, key: key), line: line(node))]
    }

    func oneOf<T: RawRepresentable>(_ node: Node, key: String, _ type: T.Type) throws -> T
    where T.RawValue == String, T: CaseIterable {
        let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
        return try parsed(node, key: key, expected: "one of \(choices)", T.init(rawValue:))
    }

    /// A text value that `parse` reads; `.invalidValue` at the node's line when it refuses it.
    func parsed<Value>(_ node: Node, key: String, expected: String, _ parse: (String) -> Value?) throws -> Value {
        guard let value = parse(try string(node, key: key)) else { throw invalid(node, key: key, expected: expected) }
        return value
    }

    /// `'KEY' must be EXPECTED` at the node's line.
    func invalid(_ node: Node, key: String, expected: String) -> PipelineFileError {
        PipelineFileError(file: file, line: line(node), reason: .invalidValue(key: key, expected: expected))
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            return "key " + duplicates.map { "'\($0)'" }.joined(separator: ", ") + " given twice"
        default:
            return String(describing: error)
        }
    }
}

/// A value and where it came from, for error messages: a line of the file, or nil for the
/// command line.
struct Located<Value> {
    var value: Value
    var line: Int?
}

/// The allowed key nearest to a misspelt one (edit distance at most 3), for "did you mean".
func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 3 }
    return scored.min { $0.1 < $1.1 }?.0
}

/// Levenshtein distance between two short strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
