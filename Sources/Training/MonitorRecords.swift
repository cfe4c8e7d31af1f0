import Foundation
import GroupDNet
import ImageIO
import Records
import Statistics

/// One record decoded for the training monitor, at the model's size.
struct MonitorRecord {
    var key: String
    var label: LabelMap
    var photo: Image
    /// The instance map, for a model with instance edges (Cityscapes); else nil.
    var instances: InstanceMap?
}

/// Records the training monitor reads besides the training stream: the fixed samples whose
/// images TensorBoard and the page show, and the records the validation losses are computed
/// on. They are read through their own `ShardSet` of the split, decoded once when the run
/// starts and kept in memory, so the training reader (its position, its prefetch queue) is
/// never touched.
///
/// The records are spread evenly over the split, first to last (as the statistics report's
/// contact sheet picks its samples), in set order: the same records for the whole run.
struct MonitorRecords {
    static let validationSplit = "validation"
    /// The split read: "validation", or "train" when the set has no validation records and
    /// the caller allowed that fallback.
    let split: String
    let records: [MonitorRecord]
    /// Damaged records left out, each as its error (shard, record, offset, key).
    let skipped: [String]

    /// Reads up to `count` records of the validation split of `directory` (else of the train
    /// split when `fallBackToTraining`; else throws). Records of another size than the model's
    /// are resampled with `resize` (label nearest, photo bicubic, as ``ShardBatches``) and
    /// refused without it.
    static func load(directory: URL, count: Int, configuration: GroupDNetConfiguration, resize: Bool,
                     fallBackToTraining: Bool, purpose: String) throws -> MonitorRecords {
        let manifest = directory.appendingPathComponent(Manifest.fileName).path
        var split = validationSplit
        var set = try ShardSet(directory: directory, split: split)
        if set.count == 0 {
            guard fallBackToTraining else {
                throw TrainingError.dataMismatch(
                    file: manifest, reason: "\(purpose) needs validation records, and the shards have none",
                    hint: "shard a prepared folder with a validation partition, or leave \(purpose) out")
            }
            split = "train"
            set = try ShardSet(directory: directory, split: split)
        }
        var records: [MonitorRecord] = [], skipped: [String] = []
        for global in StatisticsReport.spreadIndices(count, over: set.count) {
            let (shard, record) = set.location(ofGlobalIndex: global)
            let shardPath = directory.appendingPathComponent(set.shards[shard].entry.name).path
            do {
                let view = try set.segmentationRecord(at: global)
                var (photo, label) = try view.decoded()
                var instances = configuration.hasInstanceEdges ? try view.decodedInstances() : nil
                if configuration.hasInstanceEdges && instances == nil {
                    throw TrainingError.dataMismatch(
                        file: manifest, reason: "the \(split) record \(view.key) has no instance map, and the model "
                            + "takes instance edges", hint: "prepare the data with its instance maps")
                }
                if let bad = label.values.first(where: { Int($0) >= configuration.classCount }) {
                    let reason = "class id \(bad) is not below \(configuration.classCount)"
                    throw RecordsError(file: shardPath, record: record, key: view.key, reason: .invalidValue(reason))
                }
                if label.width != configuration.imageWidth || label.height != configuration.imageHeight {
                    guard resize else {
                        throw TrainingError.dataMismatch(
                            file: manifest,
                            reason: "the \(split) record \(view.key) is \(label.width)×\(label.height), "
                                + "the model expects \(configuration.imageWidth)×\(configuration.imageHeight)",
                            hint: "pass --resize to resample each sample to the model's size")
                    }
                    label = label.resized(width: configuration.imageWidth, height: configuration.imageHeight)
                    photo = photo.resized(width: configuration.imageWidth, height: configuration.imageHeight)
                    instances = instances?.resized(width: configuration.imageWidth, height: configuration.imageHeight)
                }
                records.append(MonitorRecord(key: view.key, label: label, photo: photo, instances: instances))
            } catch let error as TrainingError {
                throw error
            } catch var error as RecordsError {
                if error.file.isEmpty { (error.file, error.record) = (shardPath, record) }
                skipped.append("\(error)")
            } catch {
                skipped.append("\(shardPath) record \(record): \(error)")
            }
        }
        return MonitorRecords(split: split, records: records, skipped: skipped)
    }
}
