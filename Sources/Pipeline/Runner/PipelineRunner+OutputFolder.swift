import AtomicFiles
import Foundation

/// The input folders of a run, checked.
struct InputFolders {
    let images: String
    let labels: String
    let output: String
    /// Photos and label maps in one folder (a parser's output beside its inputs).
    let shareOneFolder: Bool
    /// How the files are named (`inputs`); by extension when it is not given.
    var naming = InputNaming()
    /// The data set's split folders (`partition.folders`): the only top-level folders walked.
    var topFolders: Set<String>?

    /// The files the photo walk takes: by `inputs.photo-suffix`, else by extension, where in
    /// one folder with the label maps a label map's extension means a label map, never a photo
    /// of the same stem.
    var photoNaming: FileNaming {
        if let suffix = naming.photoSuffix { return .suffix(suffix) }
        return .extensions(
            shareOneFolder ? Pipeline.photoExtensions.subtracting(labelExtensions) : Pipeline.photoExtensions)
    }

    /// The files the label walk takes: by `inputs.label-suffix` (passing over the instance
    /// maps beside them), else by extension.
    var labelNaming: FileNaming {
        guard let suffix = naming.labelSuffix else { return .extensions(labelExtensions) }
        return .suffix(suffix, companions: naming.instanceSuffix.map { [$0] } ?? [])
    }
}

extension PipelineRunner {
    /// The configuration's folders, refused when missing, not folders, or when the output lies
    /// inside an input (whose walk would read the outputs).
    func checkedFolders() throws -> InputFolders {
        guard let images = configuration.images else { throw PipelineRunError.missingSetting("images") }
        guard let labels = configuration.labels else { throw PipelineRunError.missingSetting("labels") }
        guard let output = configuration.output else { throw PipelineRunError.missingSetting("output") }
        for (key, path) in [("images", images), ("labels", labels)] where !Self.isFolder(path) {
            throw PipelineRunError.notAFolder(key: key, path: path)
        }
        if FileManager.default.fileExists(atPath: output), !Self.isFolder(output) {
            throw PipelineRunError.notAFolder(key: "output", path: output)
        }
        for (key, input) in [("images", images), ("labels", labels)] where Self.isInside(output, input) {
            throw PipelineRunError.outputInsideInput(output: output, key: key, input: input)
        }
        let shareOneFolder = Self.resolved(images) == Self.resolved(labels)
        let folders = configuration.partition.folders.map(\.folder)
        return InputFolders(
            images: images, labels: labels, output: output, shareOneFolder: shareOneFolder,
            naming: configuration.inputs,
            topFolders: folders.isEmpty ? nil : Set(folders))
    }

    /// Deletes temporaries whose writer died (`AtomicFileWriter.isAbandonedTemporary`) in the
    /// output folder itself (`pipeline.yaml`, `classes.json`, the reports), its state folder,
    /// the data folders, and in `split/`'s per-sample folders.
    static func removeAbandonedTemporaries(in output: String, dataFolders: [String]) {
        for folder in [".", PreparedLayout.stateFolder] + dataFolders {
            AtomicFileWriter.removeAbandonedTemporaries(in: output + "/" + folder)
        }
        let split = output + "/split"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: split)) ?? [] where !name.hasPrefix(".") {
            AtomicFileWriter.removeAbandonedTemporaries(in: split + "/" + name)
        }
    }

    func loadPartitionList() throws -> EvalPartitionList? {
        guard let path = configuration.partition.list else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineRunError.partitionList("\(path): \(error.localizedDescription)")
        }
        do { return try EvalPartitionList(parsing: text, file: path) } catch {
            throw PipelineRunError.partitionList(String(describing: error))
        }
    }

    /// Creates the output folder, checks that an earlier unfinished run in it used the same
    /// configuration and worker count, writes `pipeline.yaml` and `classes.json`, and returns
    /// this worker's journal path. Temporaries abandoned by a killed run are deleted.
    func prepareOutputFolder(_ output: String) throws -> String {
        let manager = FileManager.default
        let stateFolder = output + "/" + PreparedLayout.stateFolder
        let dataFolders = [
            "train", "test", "cihp_train_mask", "cihp_test_mask", "train_instance", "test_instance", "split"
        ]
        do {
            if options.restart {  // the report too: it would describe samples no longer there
                for item in dataFolders + [PreparedLayout.stateFolder, PreparedLayout.report, PreparedLayout.summary] {
                    try? manager.removeItem(atPath: output + "/" + item)
                }
            }
            Self.removeAbandonedTemporaries(in: output, dataFolders: dataFolders)
            try manager.createDirectory(atPath: stateFolder, withIntermediateDirectories: true)
        } catch {
            throw PipelineRunError.writeFailed("\(output): \(error.localizedDescription)")
        }
        let slice = options.worker
        let journalName = "journal-\(slice.index)-of-\(slice.count).jsonl"
        let others = ((try? manager.contentsOfDirectory(atPath: stateFolder)) ?? [])
            .filter { $0.hasPrefix("journal-") && !$0.hasSuffix("-of-\(slice.count).jsonl") }
        if let other = others.first { throw PipelineRunError.otherWorkerCount(output: output, found: other) }

        let fingerprintPath = stateFolder + "/configuration.yaml"
        let fingerprint = Self.withResolvedPaths(configuration).preparationFingerprint
        if let existing = try? String(contentsOfFile: fingerprintPath, encoding: .utf8), existing != fingerprint,
            existing != Self.fingerprintBeforeResolvedPaths(configuration)
        {
            let before = Set(existing.split(separator: "\n"))
            let differences = fingerprint.split(separator: "\n").filter { !before.contains($0) }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            throw PipelineRunError.configurationChanged(output: output, differences: differences)
        }
        do {
            try AtomicFileWriter.write(fingerprint.utf8, to: fingerprintPath)
            let effective = configuration.renderedYAML(baseline: baseline, sourcePath: configuration.sourceFile)
            try AtomicFileWriter.write(effective.utf8, to: output + "/" + PreparedLayout.pipeline)
            let classes = try Self.classesJSON(configuration.classMapping.names)
            try AtomicFileWriter.write(classes.utf8, to: output + "/" + PreparedLayout.classes)
        } catch {
            throw PipelineRunError.writeFailed(String(describing: error))
        }
        return stateFolder + "/" + journalName
    }

    /// The fingerprint as versions before 2026-12-04 wrote it (paths as given, the source as
    /// named), so that their unfinished runs still resume; the folder then gets the new one.
    static func fingerprintBeforeResolvedPaths(_ configuration: PipelineConfiguration) -> String {
        var preparation = configuration
        preparation.outputs.shards = nil
        return preparation.renderedYAML()
    }

    /// `{"classes": ["hair", "face", …]}`, each name escaped as JSON needs (a quote or a
    /// backslash in a class name once made the file unreadable).
    static func classesJSON(_ names: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let quoted = try names.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return "{\"classes\": [" + quoted.joined(separator: ", ") + "]}\n"
    }

    /// The configuration with its folders and lists as absolute, resolved paths, so that
    /// `img`, `img/` and `/data/img` resume the same run.
    static func withResolvedPaths(_ configuration: PipelineConfiguration) -> PipelineConfiguration {
        var resolvedConfiguration = configuration
        resolvedConfiguration.images = configuration.images.map(resolved)
        resolvedConfiguration.labels = configuration.labels.map(resolved)
        resolvedConfiguration.output = configuration.output.map(resolved)
        resolvedConfiguration.partition.list = configuration.partition.list.map(resolved)
        return resolvedConfiguration
    }

    /// `path` absolute, without `.`, `..`, repeated or trailing slashes, symbolic links resolved.
    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Whether `path` is `folder` or lies inside it (after resolving both).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        let inner = resolved(path), outer = resolved(folder)
        return inner == outer || inner.hasPrefix(outer == "/" ? "/" : outer + "/")
    }

    func writeReport(_ report: RunReport, to output: String) throws {
        let slice = options.worker
        do {
            if slice.count == 1 {
                try report.writeReportAndSummary(in: output)
            } else {
                let name = "report-worker-\(slice.index)-of-\(slice.count).json"
                try AtomicFileWriter.write(try report.encodedJSON(), to: output + "/" + name)
            }
        } catch {
            throw PipelineRunError.writeFailed(String(describing: error))
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
