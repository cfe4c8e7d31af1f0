import Foundation
import ImageIO

/// A paired sample on its way to a worker.
struct Job: Sendable {
    let stem: String
    let photo: String
    let label: String
}

extension PipelineRunner {
    /// Prepares one sample on a worker thread and hands its journal entry and encoded files to
    /// the committer; a sample whose file could not be read goes to `outcomes` unjournaled, and
    /// any other error (an encoding failure) stops the run.
    func process(
        _ job: Job, preparation: SamplePreparation, committer: SampleCommitter, outcomes: RunOutcomes,
        scratch: ResizeScratch
    ) {
        var entry = JournalEntry(stem: job.stem, photo: job.photo, label: job.label, split: nil, dropped: nil)
        var files: [SampleCommitter.PendingFile] = []
        do {
            switch try outcome(of: job, preparation: preparation, scratch: scratch) {
            case .dropped(let reason):
                entry.dropped = reason
            case .kept(let sample):
                let storedPhoto = try encode(sample, into: &files)
                observer?(sample, storedPhoto)
                entry.split = sample.split
            }
        } catch let failure as UnreadableInput {
            let sample = DroppedSample(stem: job.stem, photo: job.photo, label: job.label, reason: failure.reason)
            outcomes.droppedUnjournaled(sample)
            return
        } catch {
            // An encoding failure, like a write failure on the committer: the sample must be redone.
            fail(error)
            return
        }
        committer.submit(SampleCommitter.Item(entry: entry, files: files))
    }

    /// A file that could not be read, as opposed to one that does not decode: the reason
    /// for the report, thrown so that the sample is not journaled as done.
    struct UnreadableInput: Error {
        let reason: DropReason
    }

    /// What the stages make of a sample. Its side is looked up once, first, so that a photo
    /// missing from the partition list is dropped without opening its files; then the photo
    /// is opened (header only) and the label map decoded, and a file that does not decode is a
    /// drop (one that cannot be read throws `UnreadableInput`).
    private func outcome(
        of job: Job, preparation: SamplePreparation, scratch: ResizeScratch
    ) throws -> SamplePreparation.Outcome {
        guard let split = preparation.partitioner.split(forStem: job.stem) else { return .dropped(.notInPartitionList) }
        let images = configuration.images!, labels = configuration.labels!
        let photo: PhotoInput
        let label: LabelInput
        do { photo = try codecs.openPhoto(images + "/" + job.photo) } catch {
            try Self.throwIfUnreadable(error, file: job.photo)
            return .dropped(.undecodable(file: job.photo, message: Self.message(of: error)))
        }
        do { label = try codecs.readLabel(labels + "/" + job.label) } catch {
            try Self.throwIfUnreadable(error, file: job.label)
            return Self.droppedNamingThePhotoFirst(
                photo, job.photo,
                else: .undecodable(
                    file: job.label, message: Self.message(of: error)))
        }
        var instances: InstanceMap?
        if let suffix = configuration.inputs.instanceSuffix {
            let file = job.stem + suffix
            guard FileManager.default.fileExists(atPath: labels + "/" + file) else {
                return Self.droppedNamingThePhotoFirst(photo, job.photo, else: .instanceMapMissing(file: file))
            }
            do { instances = try codecs.readInstances(labels + "/" + file) } catch {
                try Self.throwIfUnreadable(error, file: file)
                return Self.droppedNamingThePhotoFirst(
                    photo, job.photo,
                    else: .undecodable(
                        file: file, message: Self.message(of: error)))
            }
        }
        do {
            return try preparation.prepare(
                stem: job.stem, split: split, photo: photo, label: label, instances: instances, scratch: scratch)
        } catch {
            return .dropped(.undecodable(file: job.photo, message: Self.message(of: error)))
        }
    }

    /// A broken photo is named first, as the stages' order says, even when its label map or
    /// instance map is broken or missing too; otherwise the sample is dropped for `reason`.
    private static func droppedNamingThePhotoFirst(
        _ photo: PhotoInput, _ path: String, else reason: DropReason
    ) -> SamplePreparation.Outcome {
        do { try photo.checkDecodes() } catch {
            return .dropped(.undecodable(file: path, message: message(of: error)))
        }
        return .dropped(reason)
    }

    private static func throwIfUnreadable(_ error: Error, file: String) throws {
        if let error = error as? ImageIOError, case .unreadable = error.reason {
            let message = message(of: error) + " (not journaled: a re-run tries it again)"
            throw UnreadableInput(reason: .undecodable(file: file, message: message))
        }
    }

    private static func message(of error: Error) -> String {
        if let error = error as? ImageIOError {
            // The path is already in the report entry; keep only the reason.
            let text = error.description
            return text.hasPrefix(error.source + ": ") ? String(text.dropFirst(error.source.count + 2)) : text
        }
        return String(describing: error)
    }

    /// Encodes the sample's files (paths relative to the output folder) for the committer, which
    /// writes them, makes them durable and renames them into place. Returns the photo file's
    /// bytes (nil when not written).
    private func encode(_ sample: PreparedSample, into files: inout [SampleCommitter.PendingFile]) throws -> [UInt8]? {
        func stage(_ bytes: [UInt8], _ path: String) {
            files.append(SampleCommitter.PendingFile(path: path, bytes: bytes))
        }
        let stem = sample.flatStem
        var photoBytes: [UInt8]?
        if configuration.outputs.prepared {
            let bytes = try codecs.encodePhoto(sample.photo, configuration.outputs.photoQuality)
            stage(bytes, PreparedLayout.photoPath(flatStem: stem, split: sample.split))
            stage(
                try codecs.encodeLabel(sample.label, options.labelCompressionLevel),
                PreparedLayout.labelPath(flatStem: stem, split: sample.split))
            if let instances = sample.instances {
                stage(
                    try codecs.encodeInstances(instances),
                    PreparedLayout.instancePath(flatStem: stem, split: sample.split))
            }
            photoBytes = bytes
        }
        if configuration.outputs.split {
            for part in sample.parts where part.pixelCount > 0 {
                guard let crop = ClassSplit.maskedCrop(photo: sample.photo, label: sample.label, part: part) else {
                    continue
                }
                let name = configuration.classMapping.names[part.classID]
                stage(
                    try codecs.encodeCrop(crop),
                    PreparedLayout.splitPartPath(flatStem: stem, classID: part.classID, className: name))
            }
        }
        return photoBytes
    }
}
