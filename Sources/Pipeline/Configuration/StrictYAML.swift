import Foundation
import Yams

/// A thin strict reader over Yams's node tree: every accessor checks the kind of value and
/// the set of keys, and every failure carries the file and the line of the offending node.
/// Why not `Decodable`: it loses line numbers and silently ignores unknown (misspelt) keys.
struct StrictYAML {
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
    func mapping(_ node: Node, key: String, allowed: [String]? = nil) throws -> [(key: String, value: Node, line: Int?)] {
        guard let mapping = node.mapping else {
            throw PipelineFileError(file: file, line: line(node), reason: .invalidValue(key: key, expected: "a mapping"))
        }
        return try mapping.map { entry in
            guard let name = entry.key.scalar?.string else {
                throw PipelineFileError(file: file, line: line(entry.key), reason: .invalidValue(key: key, expected: "a mapping with plain keys"))
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
    func required(_ entries: [(key: String, value: Node, line: Int?)], _ key: String, parentLine: Int?) throws -> Node {
        guard let entry = entries.first(where: { $0.key == key }) else {
            throw PipelineFileError(file: file, line: parentLine, reason: .missingKey(key))
        }
        return entry.value
    }

    func optional(_ entries: [(key: String, value: Node, line: Int?)], _ key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func isNull(_ node: Node) -> Bool { node.null != nil }

    func string(_ node: Node, key: String) throws -> String {
        guard let scalar = node.scalar, node.null == nil else {
            throw PipelineFileError(file: file, line: line(node), reason: .invalidValue(key: key, expected: "a text value"))
        }
        return scalar.string
    }

    /// A string, or nil for `null` / `~` / an empty value.
    func optionalString(_ node: Node?, key: String) throws -> String? {
        guard let node, !isNull(node) else { return nil }
        return try string(node, key: key)
    }

    func int(_ node: Node, key: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = node.int, range.contains(value) else {
            throw PipelineFileError(
                file: file, line: line(node),
                reason: .invalidValue(key: key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)"))
        }
        return value
    }

    func double(_ node: Node, key: String, range: ClosedRange<Double>) throws -> Double {
        guard let value = node.float, range.contains(value) else {
            throw PipelineFileError(
                file: file, line: line(node),
                reason: .invalidValue(key: key, expected: "a number in \(range.lowerBound)...\(range.upperBound)"))
        }
        return value
    }

    func bool(_ node: Node, key: String) throws -> Bool {
        guard let value = node.bool else {
            throw PipelineFileError(file: file, line: line(node), reason: .invalidValue(key: key, expected: "true or false"))
        }
        return value
    }

    /// A sequence of text values (a single value counts as a one-element list), with lines.
    func strings(_ node: Node, key: String) throws -> [(value: String, line: Int?)] {
        if let sequence = node.sequence {
            return try sequence.map { (try string($0, key: key), line($0)) }
        }
        return [(try string(node, key: key), line(node))]
    }

    func oneOf<T: RawRepresentable>(_ node: Node, key: String, _ type: T.Type) throws -> T
    where T.RawValue == String, T: CaseIterable {
        let text = try string(node, key: key)
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw PipelineFileError(file: file, line: line(node), reason: .invalidValue(key: key, expected: "one of \(choices)"))
        }
        return value
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
