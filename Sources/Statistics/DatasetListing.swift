import Foundation

/// One sample to read: a label map, its photo if any, the partition it belongs to.
public struct SampleFiles: Equatable, Sendable {
    /// Names the sample in reports: the relative path stem with `/` replaced by `-`.
    public var key: String
    public var labelPath: String
    public var photoPath: String?
    public var partition: String

    public init(key: String, labelPath: String, photoPath: String?, partition: String) {
        self.key = key
        self.labelPath = labelPath
        self.photoPath = photoPath
        self.partition = partition
    }
}

/// The kinds of folder `smisprep stats` reads.
public enum DatasetLayout: Equatable, Sendable {
    /// A shard set: `manifest.json` (with a `statistics` object) and its shards.
    case shards(manifest: String)
    /// A prepared folder: `train/`, `cihp_train_mask/`, `test/`, `cihp_test_mask/`.
    case prepared
    /// A parser's raw output: `img/` + `labels/` trees, or a flat folder of pairs.
    case raw
}

/// Samples found in a folder, and the files that could not be paired.
public struct DatasetListing: Equatable, Sendable {
    public var samples: [SampleFiles]
    /// Photos with no label map (label maps without a photo are kept as label-only samples
    /// and listed in `labelsWithoutPhoto`).
    public var photosWithoutLabel: [String]
    public var labelsWithoutPhoto: [String]
    /// Class names from the folder's `classes.json`, when it has one.
    public var classNames: [String]?

    public init(
        samples: [SampleFiles], photosWithoutLabel: [String] = [], labelsWithoutPhoto: [String] = [],
        classNames: [String]? = nil
    ) {
        self.samples = samples
        self.photosWithoutLabel = photosWithoutLabel
        self.labelsWithoutPhoto = labelsWithoutPhoto
        self.classNames = classNames
    }

    /// The eight target classes of the seed, used when a prepared folder has no `classes.json`.
    public static let defaultTargetClasses = [
        "hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background",
    ]

    /// The pipeline's extensions (`Sources/Pipeline/Runner/SortedFileWalker.swift`).
    static let photoExtensions: Set<String> = ["jpg", "jpeg", "png", "tif", "tiff"]
    static let labelExtensions: Set<String> = ["png", "tif", "tiff"]

    /// Which layout `path` has: `manifest.json` means shards; a `train/` + `cihp_train_mask/`
    /// or `test/` + `cihp_test_mask/` pair means prepared; anything else is raw output.
    public static func detectLayout(of path: String) throws -> DatasetLayout {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StatisticsError.unrecognisedLayout(path: path, hint: "It is not a folder.")
        }
        let root = URL(fileURLWithPath: path)
        let manifest = root.appendingPathComponent("manifest.json").path
        if manager.fileExists(atPath: manifest) { return .shards(manifest: manifest) }
        let isPrepared = preparedFolders.contains { photos, labels in
            isFolder(root.appendingPathComponent(photos)) && isFolder(root.appendingPathComponent(labels))
        }
        return isPrepared ? .prepared : .raw
    }

    /// Prepared partitions: photo folder, label folder, partition name.
    static let preparedFolders = [("train", "cihp_train_mask"), ("test", "cihp_test_mask")]

    /// Lists a prepared folder (the pipeline's layout): `train/<stem>.jpg` beside
    /// `cihp_train_mask/<stem>.png` form partition `train`, `test/…` beside
    /// `cihp_test_mask/…` form `val`. Sorted by partition, then key.
    public static func prepared(at path: String) throws -> DatasetListing {
        let root = URL(fileURLWithPath: path)
        var listing = DatasetListing(samples: [])
        for (photoFolder, labelFolder) in preparedFolders {
            let partition = photoFolder == "train" ? "train" : "val"
            let labels = files(in: root.appendingPathComponent(labelFolder), recursive: false)
                .filter { $0.extension == "png" }
            let photos = files(in: root.appendingPathComponent(photoFolder), recursive: false)
                .filter { photoExtensions.contains($0.extension) }
            listing.append(pairing(labels: labels, photos: photos, partition: partition))
        }
        listing.classNames = try readClassNames(root.appendingPathComponent("classes.json"))
        return listing
    }

    /// Lists a parser's raw output, with the pipeline's extensions. With `img/` and `labels/`
    /// subfolders (DeepFashion's tree plus the parser's), files pair by relative path without
    /// extension; otherwise the folder's tree holds label maps (`.png`, `.tif`) beside
    /// `.jpg`/`.jpeg` photos of the same stem, as when `smisprep deepfashion` is given one folder
    /// for both (a tree of label maps alone gives label-only samples). Every sample is in
    /// partition `all`.
    public static func raw(at path: String) -> DatasetListing {
        let root = URL(fileURLWithPath: path)
        let imageRoot = root.appendingPathComponent("img"), labelRoot = root.appendingPathComponent("labels")
        if isFolder(imageRoot) && isFolder(labelRoot) {
            let labels = files(in: labelRoot, recursive: true).filter { labelExtensions.contains($0.extension) }
            let photos = files(in: imageRoot, recursive: true).filter { photoExtensions.contains($0.extension) }
            return pairing(labels: labels, photos: photos, partition: "all")
        }
        let all = files(in: root, recursive: true)
        return pairing(
            labels: all.filter { labelExtensions.contains($0.extension) },
            photos: all.filter { $0.extension == "jpg" || $0.extension == "jpeg" }, partition: "all")
    }

    private mutating func append(_ other: DatasetListing) {
        samples += other.samples
        photosWithoutLabel += other.photosWithoutLabel
        labelsWithoutPhoto += other.labelsWithoutPhoto
    }

    private static func pairing(labels: [ListedFile], photos: [ListedFile], partition: String) -> DatasetListing {
        var photoByStem: [String: ListedFile] = [:]
        for photo in photos { photoByStem[photo.stem] = photo }
        var listing = DatasetListing(samples: [])
        var used = Set<String>()
        for label in labels.sorted(by: { $0.stem < $1.stem }) {
            let photo = photoByStem[label.stem]
            if photo != nil { used.insert(label.stem) } else { listing.labelsWithoutPhoto.append(label.path) }
            listing.samples.append(SampleFiles(
                key: label.stem.replacingOccurrences(of: "/", with: "-"), labelPath: label.path,
                photoPath: photo?.path, partition: partition))
        }
        listing.photosWithoutLabel = photos.filter { !used.contains($0.stem) }.map(\.path).sorted()
        return listing
    }

    private static func readClassNames(_ url: URL) throws -> [String]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        struct ClassesFile: Decodable { var classes: [String] }
        do {
            return try JSONDecoder().decode(ClassesFile.self, from: data).classes
        } catch {
            throw StatisticsError.malformedJSON(source: url.path, message: String(describing: error))
        }
    }

    private static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Regular files under `folder`, with their path relative to it minus the extension.
    private static func files(in folder: URL, recursive: Bool) -> [ListedFile] {
        let manager = FileManager.default
        let relativePaths: [String]
        if recursive {
            relativePaths = (manager.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? []
        } else {
            relativePaths = (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
        }
        return relativePaths.compactMap { relative in
            let full = folder.appendingPathComponent(relative)
            // Hidden files and folders at any depth (the pipeline's `.smisprep/`, editors' files).
            let isHidden = relative.split(separator: "/").contains { $0.hasPrefix(".") }
            guard !isHidden, !isFolder(full) else { return nil }
            let ext = full.pathExtension.lowercased()
            let stem = ext.isEmpty ? relative : String(relative.dropLast(ext.count + 1))
            return ListedFile(path: full.path, stem: stem, extension: ext)
        }
    }
}

private struct ListedFile {
    var path: String
    var stem: String
    var `extension`: String
}
