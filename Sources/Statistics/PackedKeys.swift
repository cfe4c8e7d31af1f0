/// Sample keys (file stems) stored back to back as UTF-8: about the key's length per photo,
/// against a `String` and an array entry each (a few times more for DeepFashion's stems).
struct PackedKeys: Sendable {
    private var bytes: [UInt8] = []
    /// `ends[i]` is where key `i` ends in `bytes`.
    private var ends: [Int] = []

    var count: Int { ends.count }

    mutating func append(_ key: String) {
        bytes.append(contentsOf: key.utf8)
        ends.append(bytes.count)
    }

    mutating func append(contentsOf other: PackedKeys) {
        let offset = bytes.count
        bytes.append(contentsOf: other.bytes)
        ends.append(contentsOf: other.ends.lazy.map { $0 + offset })
    }

    subscript(index: Int) -> String {
        let start = index == 0 ? 0 : ends[index - 1]
        return String(decoding: bytes[start..<ends[index]], as: UTF8.self)
    }
}
