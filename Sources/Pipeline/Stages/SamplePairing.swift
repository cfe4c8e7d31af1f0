/// A file found under the photo or label folder, named by its path relative to that folder.
public struct SampleFile: Equatable, Sendable {
    /// Path relative to the folder, with `/` separators, e.g. `WOMEN/Dresses/id_00000002/02_1_front.jpg`.
    public let relativePath: String
    /// The relative path without its extension: the key that pairs a photo with its label.
    public let stem: String

    public init(relativePath: String) {
        self.init(relativePath: relativePath, stem: SampleFile.stem(of: relativePath))
    }

    /// A file whose stem the caller already knows (the walker, which splits each name once).
    init(relativePath: String, stem: String) {
        self.relativePath = relativePath
        self.stem = stem
    }

    /// `a/b/c.jpg` → `a/b/c`; a dot in a folder name or a leading dot is not an extension.
    public static func stem(of relativePath: String) -> String {
        let bytes = relativePath.utf8
        let nameStart = bytes.lastIndex(of: UInt8(ascii: "/")).map { bytes.index(after: $0) } ?? bytes.startIndex
        guard let dot = bytes[nameStart...].lastIndex(of: UInt8(ascii: ".")), dot != nameStart else {
            return relativePath
        }
        return String(relativePath[..<dot])
    }

    /// The lower-case extension of a file name (`C.JPG` → `jpg`), empty when it has none; a
    /// leading dot does not start one.
    static func lowercasedExtension(of name: String) -> String {
        let bytes = name.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot != bytes.startIndex else { return "" }
        return String(name[bytes.index(after: dot)...]).lowercased()
    }
}

/// Orders stems the way a sorted directory walk meets them: path component by component,
/// each compared by its UTF-8 bytes, a parent's files before its sub-folders of equal name.
/// Both walks (photos, labels) must produce this order for `SamplePairing` to merge them.
public func stemPrecedes(_ lhs: String, _ rhs: String) -> Bool {
    var left = lhs.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).makeIterator()
    var right = rhs.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).makeIterator()
    while true {
        switch (left.next(), right.next()) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case let (l?, r?):
            if l.elementsEqual(r) { continue }
            return l.lexicographicallyPrecedes(r)
        }
    }
}

/// What pairing found for one stem.
public enum PairingEvent: Equatable, Sendable {
    /// A photo and its label map.
    case paired(stem: String, photo: String, label: String)
    /// A photo with no label map of the same stem.
    case photoWithoutLabel(stem: String, photo: String)
    /// A label map with no photo of the same stem.
    case labelWithoutPhoto(stem: String, label: String)
    /// A second file of an already seen stem on the same side (e.g. `a.jpg` and `a.png`).
    case duplicateStem(stem: String, path: String)

    /// The stem this event is about.
    public var stem: String {
        switch self {
        case .paired(let stem, _, _), .photoWithoutLabel(let stem, _), .labelWithoutPhoto(let stem, _),
            .duplicateStem(let stem, _):
            return stem
        }
    }
}

/// The pair stage: merges two stem-ordered streams of files (photos, labels) into pairs and
/// reports unpaired files both ways, holding only the current file of each stream.
///
/// Memory does not grow with the number of files, so it pairs a walk of any size. Inputs out
/// of `stemPrecedes` order break the merge; the walker in this target produces that order.
public struct SamplePairing<Photos: IteratorProtocol, Labels: IteratorProtocol>: IteratorProtocol, Sequence
where Photos.Element == SampleFile, Labels.Element == SampleFile {
    private var photos: Photos
    private var labels: Labels
    private var nextPhoto: SampleFile?
    private var nextLabel: SampleFile?
    private var lastPhotoStem: String?
    private var lastLabelStem: String?

    public init(photos: Photos, labels: Labels) {
        self.photos = photos
        self.labels = labels
        nextPhoto = self.photos.next()
        nextLabel = self.labels.next()
    }

    public mutating func next() -> PairingEvent? {
        // Duplicates first, so a stem is paired with its first file on each side.
        if let photo = nextPhoto, photo.stem == lastPhotoStem {
            nextPhoto = photos.next()
            return .duplicateStem(stem: photo.stem, path: photo.relativePath)
        }
        if let label = nextLabel, label.stem == lastLabelStem {
            nextLabel = labels.next()
            return .duplicateStem(stem: label.stem, path: label.relativePath)
        }
        switch (nextPhoto, nextLabel) {
        case (nil, nil):
            return nil
        case (let photo?, nil):
            return takePhoto(photo)
        case (nil, let label?):
            return takeLabel(label)
        case (let photo?, let label?):
            if photo.stem == label.stem {
                lastPhotoStem = photo.stem
                lastLabelStem = label.stem
                nextPhoto = photos.next()
                nextLabel = labels.next()
                return .paired(stem: photo.stem, photo: photo.relativePath, label: label.relativePath)
            }
            return stemPrecedes(photo.stem, label.stem) ? takePhoto(photo) : takeLabel(label)
        }
    }

    private mutating func takePhoto(_ photo: SampleFile) -> PairingEvent {
        lastPhotoStem = photo.stem
        nextPhoto = photos.next()
        return .photoWithoutLabel(stem: photo.stem, photo: photo.relativePath)
    }

    private mutating func takeLabel(_ label: SampleFile) -> PairingEvent {
        lastLabelStem = label.stem
        nextLabel = labels.next()
        return .labelWithoutPhoto(stem: label.stem, label: label.relativePath)
    }
}
