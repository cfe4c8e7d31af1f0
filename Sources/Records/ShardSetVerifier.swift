import Dispatch
import Foundation
import ImageIO

/// Checks a whole shard set and lists every problem, never stopping at the first: manifest,
/// shard sizes and SHA-256 hashes, indexes, every record's CRCs and its offset against the
/// index, every payload against the segmentation schema, label values against the class count,
/// photo and label sizes, the split fields against the label map, and keys used twice.
///
/// After a damaged record the scan resynchronises at the next offset the index gives, so one
/// bad record does not hide the rest of the shard.
public enum ShardSetVerifier {
    public struct Report {
        /// Every problem found, in shard and record order.
        public var problems: [RecordsError] = []
        public var shardsChecked = 0
        public var recordsChecked = 0
        public var isClean: Bool { problems.isEmpty }
    }

    /// Verifies `directory`, shards in parallel on `jobs` threads (the report is in shard order
    /// whatever `jobs` is). `decodeImages` also decodes every JPEG/PNG photo and PNG label
    /// (slow; needed to check encoded label values and photo sizes).
    public static func verify(directory: URL, decodeImages: Bool = true, jobs: Int = 1) -> Report {
        var report = Report()
        let manifest: Manifest
        do { manifest = try Manifest(directory: directory) } catch let error as RecordsError {
            report.problems.append(error)
            return report
        } catch {
            report.problems.append(RecordsError(file: directory.path, reason: .badManifest("\(error)")))
            return report
        }
        let shardCount = manifest.shards.count
        let reports = UnsafeMutableBufferPointer<(Report, [(key: String, location: String)])>.allocate(
            capacity: shardCount)
        reports.initialize(repeating: (Report(), []))
        defer {
            reports.deinitialize()
            reports.deallocate()
        }
        // Worker w checks shards w, w + jobs, …; each slot is written by one worker only.
        let workers = max(1, min(jobs, shardCount))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for number in stride(from: worker, to: shardCount, by: workers) {
                var shardReport = Report()
                var keys: [(key: String, location: String)] = []
                verifyShard(
                    manifest.shards[number], manifest: manifest, directory: directory, decodeImages: decodeImages,
                    keys: &keys, report: &shardReport)
                reports[number] = (shardReport, keys)
            }
        }
        var firstUse: [String: String] = [:]
        for (number, (shardReport, keys)) in reports.enumerated() {
            report.problems += shardReport.problems
            report.recordsChecked += shardReport.recordsChecked
            report.shardsChecked += 1
            let path = directory.appendingPathComponent(manifest.shards[number].name).path
            for (key, location) in keys {
                if let earlier = firstUse[key] {
                    report.problems.append(
                        RecordsError(
                            file: path, key: key,
                            reason: .invalidValue(
                                "key used twice: \(earlier) and \(location)")))
                } else {
                    firstUse[key] = location
                }
            }
        }
        return report
    }

    private static func verifyShard(
        _ entry: Manifest.Shard, manifest: Manifest, directory: URL, decodeImages: Bool,
        keys: inout [(key: String, location: String)], report: inout Report
    ) {
        let url: URL, indexURL: URL
        do { (url, indexURL) = try entry.files(in: directory) } catch let error as RecordsError {
            report.problems.append(error)
            return
        } catch { return }
        let path = url.path
        let file: MappedFile
        do { file = try MappedFile(url: url, sequential: true) } catch let error as RecordsError {
            report.problems.append(error)
            return
        } catch { return }
        if file.bytes.count != entry.bytes {
            report.problems.append(
                RecordsError(
                    file: path,
                    reason: .badManifest(
                        "shard is \(file.bytes.count) bytes, the manifest says \(entry.bytes)")))
        }
        if let hash = try? FileIO.sha256Hex(of: url), hash != entry.sha256 {
            report.problems.append(
                RecordsError(
                    file: path,
                    reason: .badManifest(
                        "SHA-256 is \(hash), the manifest says \(entry.sha256)")))
        }
        var index: ShardIndex?
        do {
            index = try ShardIndex(contentsOf: indexURL)
            if index!.shardSize != UInt64(file.bytes.count) || index!.count != entry.records {
                report.problems.append(
                    RecordsError(
                        file: indexURL.path,
                        reason: .badIndex(
                            "\(index!.count) records over \(index!.shardSize) bytes; the shard is "
                            + "\(file.bytes.count) bytes and the manifest says \(entry.records) records")))
            }
        } catch let error as RecordsError {
            report.problems.append(error)
        } catch {}
        var offset = 0
        var recordNumber = 0
        while offset < file.bytes.count {
            if let index, recordNumber < index.count, index.offsets[recordNumber] != UInt64(offset) {
                report.problems.append(
                    RecordsError(
                        file: path, record: recordNumber, offset: offset,
                        reason: .badIndex(
                            "record starts at byte \(offset), the index says \(index.offsets[recordNumber])")))
            }
            do {
                let located = try TFRecord.read(file.bytes, at: offset, file: path, record: recordNumber)
                checkPayload(
                    located.payload, classCount: manifest.classes.count, decodeImages: decodeImages,
                    at: (path, recordNumber, offset), keys: &keys, report: &report)
                offset = located.end
            } catch var error as RecordsError {
                let end = index.map {
                    recordNumber + 1 < $0.count ? Int($0.offsets[recordNumber + 1]) : Int($0.shardSize)
                }
                // Past the index's end (bytes after the last record) the range is empty.
                let keyEnd = max(offset, min(end ?? offset, file.bytes.count))
                error.key = ShardSet.bestEffortKey(file.bytes, range: offset..<keyEnd)
                report.problems.append(error)
                // Resynchronise at the next record the index knows; without one the rest is lost.
                guard let index, recordNumber + 1 < index.count, Int(index.offsets[recordNumber + 1]) > offset else {
                    report.recordsChecked += 1
                    recordNumber += 1
                    break
                }
                offset = Int(index.offsets[recordNumber + 1])
            } catch { break }
            report.recordsChecked += 1
            recordNumber += 1
        }
        if recordNumber != entry.records {
            report.problems.append(
                RecordsError(
                    file: path,
                    reason: .badManifest(
                        "scanned \(recordNumber) records, the manifest says \(entry.records)")))
        }
    }

    private static func checkPayload(
        _ payload: UnsafeRawBufferPointer, classCount: Int, decodeImages: Bool,
        at location: (file: String, record: Int, offset: Int), keys: inout [(key: String, location: String)],
        report: inout Report
    ) {
        var key: String?
        do {
            let view = try SegmentationRecord.View(payload: payload)
            key = view.key
            func invalid(_ message: String) -> RecordsError { RecordsError(file: "", reason: .invalidValue(message)) }
            keys.append(
                (view.key, "\(URL(fileURLWithPath: location.file).lastPathComponent) record \(location.record)"))
            guard view.classCount == classCount else {
                throw invalid("label/classes is \(view.classCount), the manifest lists \(classCount) classes")
            }
            guard view.labelFormat == "raw" || decodeImages else { return }
            var values = [UInt8](repeating: 0, count: view.width * view.height)
            try values.withUnsafeMutableBufferPointer { try view.decodeLabel(into: $0) }
            let split = try values.withUnsafeBufferPointer {
                try SegmentationRecord.classSplit(
                    of: $0, width: view.width, height: view.height, classCount: classCount)
            }
            guard split == view.split else { throw invalid("split/bbox or split/area disagree with the label map") }
            if decodeImages && view.imageFormat != "raw" {
                var pixels = [UInt8](repeating: 0, count: view.width * view.height * 3)
                try pixels.withUnsafeMutableBufferPointer { try view.decodeImage(into: $0) }
            }
            if decodeImages && view.instanceFormat == "png" { _ = try view.decodedInstances() }
        } catch {
            let reason = (error as? RecordsError)?.reason ?? .invalidValue(String(describing: error))
            report.problems.append(
                RecordsError(
                    file: location.file, record: location.record, offset: location.offset,
                    key: key ?? (error as? RecordsError)?.key, reason: reason))
        }
    }
}
