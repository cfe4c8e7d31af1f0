import Foundation
import Yams

/// Reads a source label set (`Pipelines/sources/<name>.yaml`: `name:` and `classes:` mapping
/// id → name) for `smisprep stats --source`.
///
/// Kept in the front end until the Pipeline target's source-set API is merged; then this file
/// should call it instead.
enum StatsSourceTable {
    struct SourceFile: Decodable {
        var name: String?
        var classes: [Int: String]
    }

    /// `source` is a set name (`lip`, `cihp`, `atr`), looked up as `<folder>/<name>.yaml`, or
    /// a path to a YAML file.
    static func load(_ source: String, folder: String) throws -> [UInt8: String] {
        let path = source.hasSuffix(".yaml") || source.hasSuffix(".yml") || source.contains("/")
            ? source : URL(fileURLWithPath: folder).appendingPathComponent("\(source).yaml").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SourceTableError(path: path, message: "cannot read the file (is --sources-dir right?)")
        }
        let file: SourceFile
        do {
            file = try YAMLDecoder().decode(SourceFile.self, from: text)
        } catch {
            throw SourceTableError(path: path, message: "not a source label set: \(error)")
        }
        var table: [UInt8: String] = [:]
        for (id, name) in file.classes {
            guard let byte = UInt8(exactly: id) else {
                throw SourceTableError(path: path, message: "class id \(id) (\(name)) is outside 0…255")
            }
            table[byte] = name
        }
        return table
    }
}

struct SourceTableError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "\(path): \(message)" }
}
