/// Why an image could not be read or written. Always carries the source it came from (a file
/// path, or a description such as "shard-00003.tfrecord record 17") so that a report can name
/// the culprit.
public struct ImageIOError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The file could not be opened or read (the message comes from the system).
        case unreadable(String)
        /// The bytes start with no known image signature.
        case unknownFormat
        /// The codec rejected the data; the message is the library's own.
        case corrupt(String)
        /// The declared size exceeds the configured pixel limit; refused before allocating.
        case tooLarge(width: Int, height: Int, limit: Int)
        /// A valid file using a feature this toolkit does not decode.
        case unsupported(String)
        /// The decoded size differs from the size the caller required.
        case sizeMismatch(expectedWidth: Int, expectedHeight: Int, width: Int, height: Int)
        /// Encoding or writing failed.
        case encodeFailed(String)
    }

    /// The file path or record description the data came from.
    public let source: String
    public let reason: Reason

    public init(source: String, reason: Reason) {
        self.source = source
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .unreadable(let message): return "\(source): cannot read file: \(message)"
        case .unknownFormat: return "\(source): not a PNG, JPEG or TIFF file"
        case .corrupt(let message): return "\(source): corrupt image: \(message)"
        case .tooLarge(let width, let height, let limit):
            return "\(source): declared size \(width)×\(height) exceeds the limit of \(limit) pixels"
        case .unsupported(let message): return "\(source): unsupported image: \(message)"
        case .sizeMismatch(let ew, let eh, let w, let h):
            return "\(source): size \(w)×\(h) differs from the expected \(ew)×\(eh)"
        case .encodeFailed(let message): return "\(source): cannot encode image: \(message)"
        }
    }
}
