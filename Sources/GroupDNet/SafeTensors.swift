import AtomicFiles
import Foundation

/// The safetensors file format (Hugging Face), as `safetensors.torch.save_file` writes it.
///
/// | bytes | content |
/// |---|---|
/// | 0 ..< 8 | N, the header length, unsigned 64-bit little-endian |
/// | 8 ..< 8+N | JSON: `{"<name>": {"dtype": "F32", "shape": [2560, 320, 3, 3], "data_offsets": [begin, end]}, …, "__metadata__": {…}}`, padded with spaces |
/// | 8+N ..< end | the tensors' raw little-endian bytes; offsets count from 8+N |
///
/// A shape of `[]` is a scalar with one element. Reading checks every entry's dtype, its
/// offsets against the data area and its byte count against its shape; errors name the file,
/// the tensor and the byte offset. Writing is atomic: a temporary file in the same folder is
/// written, flushed to disk (fsync) and renamed over the final name.
public enum SafeTensors {
    /// The element types this reader understands.
    public enum DType: String, Sendable {
        case float32 = "F32"
        case int64 = "I64"
        case uint8 = "U8"

        public var byteCount: Int {
            switch self {
            case .float32: return 4
            case .int64: return 8
            case .uint8: return 1
            }
        }
    }

    /// One tensor of a file: its element type, shape and raw little-endian bytes.
    ///
    /// An entry made from floats keeps them (sharing the array's storage) rather than a byte
    /// copy, and ``SafeTensors/write(_:to:)`` streams them to the file: saving a checkpoint
    /// then needs no second copy of the model and optimiser in memory (about 1.3 GB at the
    /// DeepFashion preset, which was the peak of a training step at batch 1).
    public struct Entry: Equatable, Sendable {
        public var dtype: DType
        public var shape: [Int]
        private var storage: Storage

        private enum Storage: Sendable {
            case bytes([UInt8])
            case floats([Float])
        }

        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            storage = .bytes(bytes)
        }

        /// A float32 entry holding `floats` without copying them.
        public init(shape: [Int], floats: [Float]) {
            dtype = .float32
            self.shape = shape
            storage = .floats(floats)
        }

        /// An int64 scalar entry (`num_batches_tracked`).
        public init(int64Scalar value: Int64) {
            self.init(dtype: .int64, shape: [], bytes: Swift.withUnsafeBytes(of: value.littleEndian) { Array($0) })
        }

        /// The raw little-endian bytes (a copy for an entry made from floats).
        public var bytes: [UInt8] {
            get { withUnsafeBytes { Array($0) } }
            set { storage = .bytes(newValue) }
        }

        /// Calls `body` with the raw little-endian bytes, without copying them.
        public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            switch storage {
            case .bytes(let bytes): return try bytes.withUnsafeBytes(body)
            // Float's in-memory layout is little-endian on every platform Swift runs this on.
            case .floats(let floats): return try floats.withUnsafeBytes(body)
            }
        }

        public var byteCount: Int {
            switch storage {
            case .bytes(let bytes): return bytes.count
            case .floats(let floats): return floats.count * MemoryLayout<Float>.size
            }
        }

        public var elementCount: Int { shape.reduce(1, *) }

        /// The values as Float32; nil unless the dtype is F32.
        public var floats: [Float]? {
            guard dtype == .float32 else { return nil }
            if case .floats(let floats) = storage { return floats }
            return withUnsafeBytes { raw in
                (0..<elementCount).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
            }
        }

        /// The values as Int64; nil unless the dtype is I64.
        public var int64s: [Int64]? {
            guard dtype == .int64 else { return nil }
            return withUnsafeBytes { raw in
                (0..<elementCount).map {
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))
                }
            }
        }

        /// Entries are equal when their types, shapes and bytes are, however they are stored.
        public static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.dtype == rhs.dtype && lhs.shape == rhs.shape
                && lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
        }
    }

    /// The tensors of a file, by name, and its `__metadata__` (empty when absent).
    public struct File: Sendable {
        public var entries: [String: Entry]
        public var metadata: [String: String]
        public init(entries: [String: Entry], metadata: [String: String] = [:]) {
            self.entries = entries
            self.metadata = metadata
        }
    }

    /// Reads a whole file. Throws ``GroupDNetError/checkpoint(file:tensor:reason:)`` for a
    /// short file, a bad header, an unknown dtype, or data offsets that do not fit.
    public static func read(from url: URL) throws -> File {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw GroupDNetError.checkpoint(
                file: path, tensor: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Parses the bytes of a safetensors file; `path` is used in errors only.
    public static func decode(_ data: Data, path: String) throws -> File {
        func failure(_ tensor: String?, _ reason: String) -> GroupDNetError {
            .checkpoint(file: path, tensor: tensor, reason: reason)
        }
        guard data.count >= 8 else { throw failure(nil, "\(data.count) bytes: shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw failure(
                nil, "header length \(headerLength) at byte 0 exceeds the file's remaining \(data.count - 8) bytes")
        }
        let dataStart = 8 + Int(headerLength)
        let header = data.subdata(in: data.startIndex + 8..<data.startIndex + dataStart)
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw failure(nil, "the header (bytes 8..<\(dataStart)) is not a JSON object")
        }
        let dataLength = data.count - dataStart
        var file = File(entries: [:])
        for (name, value) in json {
            if name == "__metadata__" {
                file.metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
                let shapeValues = fields["shape"] as? [Any], let offsetValues = fields["data_offsets"] as? [Any],
                offsetValues.count == 2
            else {
                throw failure(name, "header entry needs dtype, shape and two data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw failure(name, "dtype \(dtypeName) is not supported (F32, I64, U8 are)")
            }
            let shape = shapeValues.compactMap(sizeValue)
            guard shape.count == shapeValues.count else {
                throw failure(name, "shape \(shapeValues) holds something other than whole numbers ≥ 0")
            }
            guard let begin = sizeValue(offsetValues[0]), let end = sizeValue(offsetValues[1]), begin <= end,
                end <= dataLength
            else {
                throw failure(
                    name,
                    "data_offsets \(offsetValues) do not fit the \(dataLength) data bytes starting at byte "
                        + "\(dataStart)")
            }
            // The shape's product may overflow (a header claiming [2³¹, 2³¹, 4] of a few bytes).
            let expected = byteCount(of: shape, dtype)
            guard end - begin == expected else {
                throw failure(
                    name,
                    "\(end - begin) data bytes at byte \(dataStart + begin), but \(dtypeName) \(shape) needs "
                        + (expected.map { "\($0)" } ?? "more than 2⁶³"))
            }
            let start = data.startIndex + dataStart
            file.entries[name] = Entry(dtype: dtype, shape: shape, bytes: Array(data[start + begin..<start + end]))
        }
        return file
    }

    /// A JSON number that is a whole number in 0...2⁵³ (larger sizes are no file's), else nil.
    private static func sizeValue(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double >= 0, double <= 9_007_199_254_740_992, double == double.rounded(.towardZero) else { return nil }
        return Int(double)
    }

    /// The bytes of `shape` elements of `dtype`, nil when the count overflows.
    private static func byteCount(of shape: [Int], _ dtype: DType) -> Int? {
        var total = dtype.byteCount
        for extent in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The bytes of a file holding `file`'s entries, sorted by name, header padded to 8 bytes.
    public static func encode(_ file: File) throws -> Data {
        let (header, names) = try layout(file)
        var data = Data(capacity: header.count + names.reduce(0) { $0 + file.entries[$1]!.byteCount })
        data.append(header)
        for name in names { file.entries[name]!.withUnsafeBytes { data.append(contentsOf: $0) } }
        return data
    }

    /// Writes `file` to `url` atomically with `AtomicFileWriter` (temporary file beside `url`,
    /// fsync, rename, folder sync): either the old file or the complete new one is at `url`,
    /// never a partial one. The entries are streamed from their own storage, not gathered into
    /// one buffer first. A failed write throws `AtomicFileError`, naming the file, the failed
    /// step and the system's reason (a full disk says so).
    public static func write(_ file: File, to url: URL) throws {
        let (header, names) = try layout(file)
        try AtomicFileWriter.write(to: url.path) { writer in
            try header.withUnsafeBytes { try writer.write($0) }
            for name in names { try file.entries[name]!.withUnsafeBytes { try writer.write($0) } }
        }
    }

    /// The 8-byte length and the JSON header (padded with spaces to a multiple of 8), and the
    /// entry names in the order of their data, sorted.
    private static func layout(_ file: File) throws -> (header: Data, names: [String]) {
        var header: [String: Any] = [:]
        var offset = 0
        let names = file.entries.keys.sorted()
        for name in names {
            let entry = file.entries[name]!
            guard entry.byteCount == entry.elementCount * entry.dtype.byteCount else {
                throw GroupDNetError.checkpoint(
                    file: "(encoding)", tensor: name,
                    reason: "\(entry.byteCount) bytes for \(entry.dtype.rawValue) \(entry.shape)")
            }
            header[name] = [
                "dtype": entry.dtype.rawValue, "shape": entry.shape,
                "data_offsets": [offset, offset + entry.byteCount]
            ]
            offset += entry.byteCount
        }
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var prefixed = Data(capacity: 8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefixed.append(contentsOf: $0) }
        prefixed.append(json)
        return (prefixed, names)
    }
}
