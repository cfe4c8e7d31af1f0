import Foundation
import ImageIO

extension SegmentationRecord {
    /// A record source over two folders that pair photos and label maps by file stem
    /// (`photos/NAME.jpg` with `labels/NAME.png`); the stem becomes the key. Inputs are sorted
    /// by stem, so the order (and the shards) do not depend on the file system.
    ///
    /// With `.jpeg(quality: nil)` a JPEG photo is stored byte for byte (its size read from the
    /// JPEG frame header; its data decoded once at 1/8 scale to check it); every other
    /// combination decodes the photo. The label map
    /// is always decoded (the split fields and the value check need it); with `.png` its file
    /// bytes are stored unchanged.
    ///
    /// With an `instanceFolder`, each sample's `instances/NAME.png` (a 16-bit instance map) is
    /// stored too, in the label's encoding; a sample whose instance map is missing is skipped
    /// with the writer's other unreadable inputs, naming the file.
    public struct FolderPairs {
        /// Stems that have a photo but no label, or a label but no photo.
        public let unpaired: [String]
        public let source: RecordSource
        public let stems: [String]

        public init(
            split: String, photoFolder: URL, labelFolder: URL, instanceFolder: URL? = nil, classCount: Int,
            imageEncoding: ImageEncoding, labelEncoding: LabelEncoding
        ) throws {
            let photos = try Self.filesByStem(in: photoFolder)
            let labels = try Self.filesByStem(in: labelFolder)
            let instances = try instanceFolder.map { try Self.filesByStem(in: $0) }
            let stems = photos.keys.filter { labels[$0] != nil }.sorted()
            unpaired = (Set(photos.keys).symmetricDifference(labels.keys)).sorted()
            self.stems = stems
            var source = RecordSource(
                split: split, count: stems.count,
                identity: { number in
                    let stem = stems[number]
                    let pair = "\(stem)\t\(Self.identity(of: photos[stem]!))\t\(Self.identity(of: labels[stem]!))"
                    guard let instances, let folder = instanceFolder else { return pair }
                    return pair + "\t"
                        + Self.identity(of: instances[stem] ?? folder.appendingPathComponent(stem + ".png"))
                },
                payload: { number in
                    let stem = stems[number]
                    var instanceURL: URL?
                    if let instances, let folder = instanceFolder {
                        guard let url = instances[stem] else {
                            let missing = folder.appendingPathComponent(stem + ".png").path
                            throw RecordsError(file: missing, key: stem, reason: .io("the instance map is missing"))
                        }
                        instanceURL = url
                    }
                    return try Self.example(
                        key: stem, photoURL: photos[stem]!, labelURL: labels[stem]!, instanceURL: instanceURL,
                        classCount: classCount, imageEncoding: imageEncoding, labelEncoding: labelEncoding
                    ).encoded()
                })
            source.name = { stems[$0] }
            self.source = source
        }

        private static func filesByStem(in folder: URL) throws -> [String: URL] {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
                throw RecordsError(file: folder.path, reason: .io("cannot list folder: \(error.localizedDescription)"))
            }
            var files: [String: URL] = [:]
            for name in names where !name.hasPrefix(".") {
                let url = folder.appendingPathComponent(name)
                files[url.deletingPathExtension().lastPathComponent] = url
            }
            return files
        }

        private static func identity(of url: URL) -> String {
            var status = stat()
            guard stat(url.path, &status) == 0 else { return "\(url.lastPathComponent) missing" }
            return "\(url.lastPathComponent) \(status.st_size) \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
        }

        private static func read(_ url: URL) throws -> [UInt8] {
            do { return Array(try Data(contentsOf: url)) } catch {
                throw RecordsError(file: url.path, reason: .io("cannot read: \(error.localizedDescription)"))
            }
        }

        private static func example(
            key: String, photoURL: URL, labelURL: URL, instanceURL: URL?, classCount: Int,
            imageEncoding: ImageEncoding, labelEncoding: LabelEncoding
        ) throws -> Example {
            let photoBytes = try read(photoURL)
            let labelBytes = try read(labelURL)
            let label = try labelBytes.withUnsafeBytes { try LabelMap(decoding: $0, source: labelURL.path) }
            let format = photoBytes.withUnsafeBytes { ImageFormat(sniffing: $0) }
            let photo: Photo
            if format == .jpeg, imageEncoding == .jpeg(quality: nil),
                let size = photoBytes.withUnsafeBytes({ JPEGFrameSize.read($0) })
            {
                // Stored unchanged, but only if it decodes: a truncated or damaged file would
                // otherwise reach training, which skips every such record.
                try photoBytes.withUnsafeBytes { try Image.checkDecodes($0, source: photoURL.path) }
                photo = .encoded(bytes: photoBytes, format: .jpeg, width: size.width, height: size.height)
            } else {
                photo = .pixels(try photoBytes.withUnsafeBytes { try Image(decoding: $0, source: photoURL.path) })
            }
            let isPNGLabel = labelBytes.withUnsafeBytes { ImageFormat(sniffing: $0) } == .png
            let instances = try instanceURL.map { url in
                let bytes = try read(url)
                let map = try bytes.withUnsafeBytes { try InstanceMap(decoding: $0, source: url.path) }
                return Instances(map: map, fileBytes: bytes)
            }
            do {
                return try SegmentationRecord.example(
                    key: key, photo: photo, label: label, labelFileBytes: isPNGLabel ? labelBytes : nil,
                    instances: instances, classCount: classCount, imageEncoding: imageEncoding,
                    labelEncoding: labelEncoding)
            } catch var error as RecordsError {
                error.file = labelURL.path
                throw error
            }
        }
    }
}

/// Reads a JPEG's size from its frame header (SOFn marker) without decoding.
enum JPEGFrameSize {
    /// Width and height from the first SOF marker, nil when the bytes hold none.
    static func read(_ bytes: UnsafeRawBufferPointer) -> (width: Int, height: Int)? {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var position = 2
        while position + 4 <= bytes.count {
            guard bytes[position] == 0xFF else { return nil }
            let marker = bytes[position + 1]
            if marker == 0xFF { position += 1; continue }  // fill byte
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { position += 2; continue }  // no length
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard position + 9 <= bytes.count else { return nil }
                let height = Int(bytes[position + 5]) << 8 | Int(bytes[position + 6])
                let width = Int(bytes[position + 7]) << 8 | Int(bytes[position + 8])
                return width > 0 && height > 0 ? (width, height) : nil
            }
            if marker == 0xDA { return nil }  // scan data before any frame header
            position += 2 + length
        }
        return nil
    }
}
