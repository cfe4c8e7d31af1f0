import Foundation

/// Walks a folder tree in `stemPrecedes` order, yielding the files its `FileNaming` takes, one
/// at a time: by extension (a file's stem is its name without the extension), or by a suffix
/// (Cityscapes' `aachen_000000_000019_leftImg8bit.png` has the stem `aachen_000000_000019`).
///
/// Holds one sorted listing per open folder level (DeepFashion: a few hundred names at most),
/// never the whole tree, so a walk of any size runs in small memory. Hidden entries (a leading
/// dot) are skipped; symbolic links are followed to files, not to folders (no cycles).
public struct SortedFileWalker: IteratorProtocol, Sequence {
    private struct Entry {
        let name: String
        /// A file's stem (its name without the extension), a folder's name: the sort key.
        let key: String
        let isFolder: Bool
        /// A file whose extension is one of `extensions`.
        let isWanted: Bool
    }

    private struct Level {
        /// The folder's path relative to the root, "" for the root.
        let relativePath: String
        /// FNV-1a of `relativePath + "/"` ("" for the root): a file's stem hash continues it.
        let stemPrefixHash: UInt64
        var entries: [Entry]
        var index = 0
    }

    private let root: String
    private let naming: FileNaming
    private let topFolders: Set<String>?
    private let slice: WorkerSlice
    /// Wanted files skipped because their stem belongs to another worker's slice.
    public private(set) var otherSlicesFiles = 0
    private var stack: [Level] = []
    /// Files skipped because of their extension, so the run can say how many it ignored.
    public private(set) var ignoredFiles = 0
    /// Files returned by `next()`.
    public private(set) var yieldedFiles = 0
    /// Folders that could not be listed (path and message).
    public private(set) var unreadableFolders: [(path: String, message: String)] = []

    /// - Parameters:
    ///   - extensions: lower-case extensions without the dot, e.g. ["jpg", "png"].
    ///   - slice: yield only the files whose stem is in this worker's slice. Both walks of a
    ///     pairing must use the same slice; the others' files are skipped before any path is
    ///     built, so N workers sharing a tree pay for one listing of it each, not N walks.
    public init(root: String, extensions: Set<String>, slice: WorkerSlice = .whole) {
        self.init(root: root, naming: .extensions(extensions), slice: slice)
    }

    /// - Parameters:
    ///   - naming: which files are taken, and what their stems are.
    ///   - topFolders: when given, only these folders of the root are walked (a data set's own
    ///     split folders: Cityscapes' `train` and `val`, not `test`); the root's other entries
    ///     are neither walked nor counted.
    public init(root: String, naming: FileNaming, topFolders: Set<String>? = nil, slice: WorkerSlice = .whole) {
        self.root = root
        self.naming = naming
        self.topFolders = topFolders
        self.slice = slice
        if let level = listing(relativePath: "", stemPrefixHash: fnv1a64("")) { stack.append(level) }
    }

    public mutating func next() -> SampleFile? {
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].index < stack[top].entries.count else {
                stack.removeLast()
                continue
            }
            let entry = stack[top].entries[stack[top].index]
            stack[top].index += 1
            let folder = stack[top].relativePath, prefixHash = stack[top].stemPrefixHash
            if entry.isFolder {
                let path = folder.isEmpty ? entry.name : folder + "/" + entry.name
                let hash = fnv1a64(continuing: fnv1a64(continuing: prefixHash, entry.name), "/")
                if let level = listing(relativePath: path, stemPrefixHash: hash) {
                    stack.append(level)
                }
                continue
            }
            guard entry.isWanted else {
                ignoredFiles += 1
                continue
            }
            guard slice.contains(stemFNV: fnv1a64(continuing: prefixHash, entry.key)) else {
                otherSlicesFiles += 1
                continue
            }
            yieldedFiles += 1
            if folder.isEmpty { return SampleFile(relativePath: entry.name, stem: entry.key) }
            return SampleFile(relativePath: folder + "/" + entry.name, stem: folder + "/" + entry.key)
        }
        return nil
    }

    private mutating func listing(relativePath: String, stemPrefixHash: UInt64) -> Level? {
        let path = relativePath.isEmpty ? root : root + "/" + relativePath
        guard let directory = opendir(path) else {
            unreadableFolders.append((path, String(cString: strerror(errno))))
            return nil
        }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            var isFolder = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                isFolder = lstat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            if let topFolders, relativePath.isEmpty, !(isFolder && topFolders.contains(name)) { continue }
            // A file's key is its stem, so that `a.jpg` and `a.png` meet at the same place in
            // both walks; a folder's key is its name.
            if isFolder {
                entries.append(Entry(name: name, key: name, isFolder: true, isWanted: false))
            } else if let stem = naming.stem(of: name) {
                entries.append(Entry(name: name, key: stem, isFolder: false, isWanted: true))
            } else if !naming.isCompanion(name) {
                entries.append(Entry(name: name, key: SampleFile.stem(of: name), isFolder: false, isWanted: false))
            }
        }
        entries.sort { lhs, rhs in
            if lhs.key != rhs.key { return lhs.key.utf8.lexicographicallyPrecedes(rhs.key.utf8) }
            if lhs.isFolder != rhs.isFolder { return !lhs.isFolder }
            return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
        }
        return Level(relativePath: relativePath, stemPrefixHash: stemPrefixHash, entries: entries)
    }
}

/// Which files of a tree a walk takes, and each one's stem.
public enum FileNaming: Equatable, Sendable {
    /// Files with one of these lower-case extensions (without the dot); the stem is the name
    /// without its extension.
    case extensions(Set<String>)
    /// Files whose name ends with `suffix` (and is longer); the stem is the name without it.
    /// Files ending with one of `companions` (another kind of the same sample's files, such as
    /// Cityscapes' instance maps beside its label maps) are passed over without being counted
    /// as ignored.
    case suffix(String, companions: [String] = [])

    /// The stem of a file this naming takes, nil for any other file.
    public func stem(of name: String) -> String? {
        switch self {
        case .extensions(let extensions):
            return extensions.contains(SampleFile.lowercasedExtension(of: name)) ? SampleFile.stem(of: name) : nil
        case .suffix(let suffix, _):
            return name.count > suffix.count && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : nil
        }
    }

    /// Whether `name` is a companion file (see `suffix`).
    func isCompanion(_ name: String) -> Bool {
        guard case .suffix(_, let companions) = self else { return false }
        return companions.contains { name.hasSuffix($0) }
    }
}

/// Extensions of photos the pipeline reads.
public let photoExtensions: Set<String> = ["jpg", "jpeg", "png", "tif", "tiff"]
/// Extensions of label maps the pipeline reads.
public let labelExtensions: Set<String> = ["png", "tif", "tiff"]
