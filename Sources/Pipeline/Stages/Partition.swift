import SeededRandom

/// Which side of the train/validation split a sample lands on.
public enum DataSplit: String, Sendable, Codable, CaseIterable {
    case train
    case validation

    /// Photo folder in the prepared layout (the reference reads `train/` and `test/`).
    public var photoFolder: String { self == .train ? "train" : "test" }
    /// Label folder in the prepared layout.
    public var labelFolder: String { self == .train ? "cihp_train_mask" : "cihp_test_mask" }
    /// Instance-map folder in the prepared layout (data sets with instance maps only).
    public var instanceFolder: String { self == .train ? "train_instance" : "test_instance" }
}

/// Why a partition list was refused: names the line (1-based).
public struct PartitionListError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

/// DeepFashion In-shop's `list_eval_partition.txt`, keyed by photo stem relative to `img/`.
///
/// Format: line 1 the record count, line 2 the header `image_name item_id evaluation_status`,
/// then one record per line, e.g. `img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train`.
/// `train` is training; `query` and `gallery` (the retrieval test sets) are validation.
public struct EvalPartitionList: Equatable, Sendable {
    /// Split by stem, e.g. `WOMEN/Dresses/id_00000002/02_1_front` → `.train`.
    public let splitByStem: [String: DataSplit]

    public init(splitByStem: [String: DataSplit]) { self.splitByStem = splitByStem }

    /// Parses the file's text. The count on line 1 must match the records.
    /// - Throws: `PartitionListError` naming the line of a malformed record, an unknown status,
    ///   or a wrong count.
    public init(parsing text: String, file: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        while lines.last?.allSatisfy(\.isWhitespace) == true { lines.removeLast() }
        guard let countLine = lines.first, let declared = Int(countLine.trimmingCharacters(in: .whitespaces)) else {
            throw PartitionListError(file: file, line: 1, reason: "expected the record count")
        }
        let header: [Substring] = ["image_name", "item_id", "evaluation_status"]
        guard lines.count >= 2, lines[1].split(whereSeparator: \.isWhitespace) == header else {
            throw PartitionListError(
                file: file, line: 2, reason: "expected the header 'image_name item_id evaluation_status'")
        }
        var splits: [String: DataSplit] = [:]
        for (index, line) in lines.enumerated().dropFirst(2) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 3 else {
                throw PartitionListError(file: file, line: index + 1, reason: "expected 3 fields, got \(fields.count)")
            }
            let split: DataSplit
            switch fields[2] {
            case "train": split = .train
            case "query", "gallery": split = .validation
            default:
                throw PartitionListError(
                    file: file, line: index + 1, reason: "unknown evaluation status '\(fields[2])'")
            }
            var path = Substring(fields[0])
            if path.hasPrefix("img/") { path = path.dropFirst(4) }
            let stem = SampleFile.stem(of: String(path))
            guard splits.updateValue(split, forKey: stem) == nil else {
                throw PartitionListError(file: file, line: index + 1, reason: "'\(fields[0])' is listed a second time")
            }
        }
        guard splits.count == declared, lines.count - 2 == declared else {
            throw PartitionListError(
                file: file, line: 1, reason: "declares \(declared) records, holds \(lines.count - 2)")
        }
        self.splitByStem = splits
    }
}

/// The partition stage: the data set's own split folders when given (Cityscapes, ADE20K), else
/// the list's split when a list is given, else a stable hash of the item id, so all photos of
/// one item land on the same side and re-runs agree.
public struct Partitioner: Sendable {
    public let list: EvalPartitionList?
    public let validationFraction: Double
    /// Top-level folder → side; empty when the data set has no split folders.
    public let folders: [String: DataSplit]

    public init(list: EvalPartitionList?, validationFraction: Double, folders: [String: DataSplit] = [:]) {
        self.list = list
        self.validationFraction = validationFraction
        self.folders = folders
    }

    /// Nil when a list is given and does not hold the stem, or split folders are given and the
    /// stem is in none of them.
    public func split(forStem stem: String) -> DataSplit? {
        if !folders.isEmpty {
            guard let slash = stem.firstIndex(of: "/") else { return nil }
            return folders[String(stem[..<slash])]
        }
        // The list's paths start at img/; a stem taken from img/'s parent folder does too.
        if let list { return list.splitByStem[stem.hasPrefix("img/") ? String(stem.dropFirst(4)) : stem] }
        return Self.hashedSplit(itemID: Self.itemID(ofStem: stem), validationFraction: validationFraction)
    }

    /// The DeepFashion item id: the folder holding the photo (`…/id_00000080/01_1_front` →
    /// `id_00000080`); a photo at the top level is its own item.
    public static func itemID(ofStem stem: String) -> String {
        let parts = stem.split(separator: "/")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : stem
    }

    /// Validation when `stableHash` of the item id, read as a fraction of 2^64, is below
    /// `validationFraction`. The hash is fixed by its definition, so the split is the same on
    /// every machine and run (unlike Swift's seeded `Hasher`).
    public static func hashedSplit(itemID: String, validationFraction: Double) -> DataSplit {
        let unit = Double(stableHash(itemID) >> 11) / Double(UInt64(1) << 53)
        return unit < validationFraction ? .validation : .train
    }
}

/// FNV-1a (64-bit) of the UTF-8 bytes, then MurmurHash3's 64-bit finaliser (fmix64).
///
/// FNV-1a alone mixes a string's last bytes poorly into its top bits, and item ids differ in
/// their last digits (`id_00000080`, `id_00000081`): a raw FNV fraction measured 18 % where
/// 20 % was asked. The finaliser spreads every input bit over the whole word.
public func stableHash(_ text: String) -> UInt64 {
    murmurFinalize(fnv1a64(text))
}

/// 64-bit FNV-1a of a string's UTF-8 bytes (offset 0xcbf29ce484222325, prime 0x100000001b3).
public func fnv1a64(_ text: String) -> UInt64 {
    fnv1a64(continuing: 0xcbf2_9ce4_8422_2325, text)
}

/// FNV-1a continued from `hash` (the hash of the bytes before `text`): the hash of a path can
/// be built component by component, with no string concatenated.
func fnv1a64(continuing hash: UInt64, _ text: String) -> UInt64 {
    var hash = hash
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
