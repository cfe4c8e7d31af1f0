import Foundation

/// Why statistics could not be read or computed. Carries the file (and where known, the
/// sample) it concerns.
public enum StatisticsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The JSON was written by a newer toolkit with a schema this one does not know.
    case unsupportedSchemaVersion(Int)
    /// The JSON is not a statistics object; the message is the decoder's.
    case malformedJSON(source: String, message: String)
    /// A folder does not have any layout `smisprep stats` reads.
    case unrecognisedLayout(path: String, hint: String)
    /// A folder could not be created; the message is the system's.
    case writeFailed(path: String, message: String)

    public var description: String {
        switch self {
        case .unsupportedSchemaVersion(let version):
            return "statistics schema version \(version) is newer than this toolkit's "
                + "\(DatasetStatistics.currentSchemaVersion); update smisprep"
        case .malformedJSON(let source, let message): return "\(source): not a statistics object: \(message)"
        case .unrecognisedLayout(let path, let hint): return "\(path): unrecognised data set layout. \(hint)"
        case .writeFailed(let path, let message): return "\(path): cannot write: \(message)"
        }
    }
}

extension DatasetStatistics {
    /// Pretty-printed JSON with sorted keys, so two runs over the same data give identical bytes.
    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads statistics JSON (from `--json`, `report.json` or a manifest's `statistics`).
    /// - Throws: `StatisticsError.unsupportedSchemaVersion` for a version above
    ///   `currentSchemaVersion` (checked first, so a newer layout gives that message and not a
    ///   missing-field one), `.malformedJSON` for anything else that does not decode.
    public static func decode(fromJSON data: Data, source: String = "statistics JSON") throws -> DatasetStatistics {
        struct VersionOnly: Decodable { var schemaVersion: Int }
        let decoder = JSONDecoder()
        do {
            let version = try decoder.decode(VersionOnly.self, from: data).schemaVersion
            guard version <= currentSchemaVersion else { throw StatisticsError.unsupportedSchemaVersion(version) }
            return try decoder.decode(DatasetStatistics.self, from: data)
        } catch let error as StatisticsError {
            throw error
        } catch {
            throw StatisticsError.malformedJSON(source: source, message: String(describing: error))
        }
    }
}
