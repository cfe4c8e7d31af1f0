import AtomicFiles
import Foundation
import ImageIO

/// Writes a shard set as WebDataset tar files: one `NAME.tar` per shard, holding for each record
/// `KEY.jpg` (or `KEY.png`) and `KEY.seg.png` next to each other (and `KEY.inst.png`, the 16-bit
/// instance map, for records that hold one), which is what WebDataset needs to group them into
/// one sample.
///
/// JPEG and PNG payloads are copied unchanged; raw photos and labels are encoded as PNG (this
/// needs the ImageIO encoder). WebDataset cuts keys at the first dot of the file name, so dots
/// and slashes in keys become underscores. Tars use the POSIX ustar format; names over 100 bytes
/// are refused. Each tar is written under a temporary name and renamed.
public enum WebDatasetExporter {
    /// Exports every shard of `set` into `directory`; returns the tar files written. A damaged
    /// record (bad checksum, malformed payload) is left out and passed to `skipped`, with its
    /// shard, record, offset and key; the other records are exported. Throws for I/O failures.
    public static func export(
        _ set: ShardSet, to directory: URL, skipped: (RecordsError) -> Void = { _ in }
    ) throws -> [URL] {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw RecordsError(
                file: directory.path, reason: .io("cannot create directory: \(error.localizedDescription)"))
        }
        var written: [URL] = []
        for shard in set.shards {
            let name = shard.entry.name.hasSuffix(".tfrecord") ? String(shard.entry.name.dropLast(9)) : shard.entry.name
            let url = directory.appendingPathComponent(name + ".tar")
            let file = try AtomicFileWriter(path: url.path)
            var tar = TarWriter()
            for record in 0..<shard.entry.records {
                let view: SegmentationRecord.View
                do { view = try set.segmentationRecord(at: shard.firstGlobalIndex + record) } catch let error
                    as RecordsError
                {
                    skipped(error)
                    continue
                }
                let key = view.key.map { $0 == "." || $0 == "/" ? "_" : $0 }.reduce(into: "") { $0.append($1) }
                let (imageExtension, imageBytes) = try photoFile(view)
                try tar.append(name: "\(key).\(imageExtension)", contents: imageBytes)
                try tar.append(name: "\(key).seg.png", contents: try labelFile(view))
                if view.hasInstances { try tar.append(name: "\(key).inst.png", contents: try instanceFile(view)) }
                if tar.bytes.count > 4 << 20 { try file.write(tar.bytes); tar.bytes.removeAll(keepingCapacity: true) }
            }
            tar.finish()
            try file.write(tar.bytes)
            try file.commit()
            written.append(url)
        }
        return written
    }

    private static func photoFile(_ view: SegmentationRecord.View) throws -> (String, [UInt8]) {
        switch view.imageFormat {
        case "jpeg": return ("jpg", Array(view.imageBytes))
        case "png": return ("png", Array(view.imageBytes))
        default:
            let image = Image(width: view.width, height: view.height, pixels: Array(view.imageBytes))
            return ("png", try image.encodedPNG())
        }
    }

    private static func instanceFile(_ view: SegmentationRecord.View) throws -> [UInt8] {
        if view.instanceFormat == "png", let bytes = view.instanceBytes { return Array(bytes) }
        return try view.decodedInstances()!.encodedPNG()
    }

    private static func labelFile(_ view: SegmentationRecord.View) throws -> [UInt8] {
        if view.labelFormat == "png" { return Array(view.labelBytes) }
        return try LabelMap(width: view.width, height: view.height, values: Array(view.labelBytes)).encodedPNG()
    }
}

/// A minimal POSIX ustar writer: 512-byte header per file, contents padded to 512, two zero
/// blocks at the end. Regular files only, fixed mode 0644 and time 0 (so output is reproducible).
struct TarWriter {
    var bytes: [UInt8] = []

    mutating func append(name: String, contents: [UInt8]) throws {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 100 else {
            throw RecordsError(file: name, reason: .invalidValue("tar member name longer than 100 bytes"))
        }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int) {
            header.replaceSubrange(offset..<(offset + field.count), with: field)
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(contents.count, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        put(Array(repeating: 0x20, count: 8), at: 148)  // checksum counts as spaces while summing
        header[156] = UInt8(ascii: "0")
        put(Array("ustar\u{0}00".utf8), at: 257)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7) + [0x20], at: 148)
        bytes += header
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    mutating func finish() {
        bytes += [UInt8](repeating: 0, count: 1024)
    }
}
