import ArgumentParser
import Foundation
import ImageIO
import Pipeline
import Records

/// `smisprep inspect`: prints one record and optionally writes its images and per-class split.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print one record of a shard set and optionally write its photo, label and per-class split.")

    @OptionGroup var shardSet: ShardSetFolder

    @Option(help: "The key of the record to show.")
    var key: String?

    @Option(parsing: .unconditional, help: "The global index of the record to show (shards in manifest order).")
    var index: Int?

    @Option(help: "Folder to write the photo, the label map and one mask and masked crop per present class into.")
    var writeSplit: String?

    func validate() throws {
        guard (key == nil) != (index == nil) else { throw ValidationError("Give exactly one of --key and --index.") }
        if let index, index < 0 { throw ValidationError("--index must not be negative.") }
    }

    func run() throws {
        let set = try shardSet.open()
        let global: Int
        if let key {
            guard let found = set.globalIndex(ofKey: key) else {
                throw PipelineCommandError(message: "\(shardSet.directory): no record has the key \(key)")
            }
            global = found
        } else {
            guard index! < set.count else {
                throw PipelineCommandError(
                    message: "\(shardSet.directory): --index \(index!) is beyond the \(set.count) records "
                        + "(0...\(set.count - 1))")
            }
            global = index!
        }
        let record = try set.record(at: global)
        let view = try set.segmentationRecord(at: global)
        print("record \(global): \(record.shardName) record \(record.recordNumber) at byte \(record.offset)")
        print("key: \(view.key)")
        print("image: \(view.imageFormat), \(view.width)×\(view.height), \(view.imageBytes.count) bytes")
        print("label: \(view.labelFormat), \(view.labelBytes.count) bytes, \(view.classCount) classes")
        let names = set.manifest.classes
        for c in 0..<view.classCount where view.split.areas[c] > 0 {
            let box = view.split.boundingBoxes[(4 * c)..<(4 * c + 4)].map(String.init).joined(separator: ",")
            print("  class \(c) \(c < names.count ? names[c] : "?"): \(view.split.areas[c]) pixels, box \(box)")
        }
        if let writeSplit { try write(view, names: names, to: URL(fileURLWithPath: writeSplit)) }
    }

    private func write(_ view: SegmentationRecord.View, names: [String], to folder: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw PipelineCommandError(message: "\(folder.path): --write-split names a file, not a folder")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw PipelineCommandError(
                message: "\(folder.path): cannot create the folder: \(error.localizedDescription)")
        }
        let (image, label) = try view.decoded()
        try image.writePNG(toFile: folder.appendingPathComponent("photo.png").path)
        try label.writePNG(toFile: folder.appendingPathComponent("label.png").path)
        for c in 0..<view.classCount where view.split.areas[c] > 0 {
            // The record's box is [x0, x1) × [y0, y1); the pipeline's split stage cuts the crops.
            let box = view.split.boundingBoxes[(4 * c)..<(4 * c + 4)].map(Int.init)
            let rect = PixelRect(x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1])
            let mask = ClassSplit.mask(of: label.cropped(to: rect), classID: c)
            let crop = ClassSplit.maskedCrop(photo: image, label: label, classID: c, box: rect)
            let name = "class-\(c)-\(c < names.count ? names[c] : "unnamed")"
            try mask.writePNG(toFile: folder.appendingPathComponent("\(name)-mask.png").path)
            try crop.writePNG(toFile: folder.appendingPathComponent("\(name)-photo.png").path)
        }
        print("wrote photo, label and \(view.split.areas.filter { $0 > 0 }.count) class splits to \(folder.path)")
    }
}
