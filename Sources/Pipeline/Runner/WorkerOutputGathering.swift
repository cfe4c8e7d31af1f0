import AtomicFiles
import Foundation

/// Brings the output folders of `--worker I/N` runs that did not share a file system (each
/// machine of a Slurm array or a Kubernetes indexed job wrote its own folder, copied back
/// afterwards) into one folder, as if they had all written there; `mergeWorkerReports` then
/// joins their reports.
///
/// Every source must come from the same pipeline: its `classes.json` and its preparation
/// fingerprint (`.smisprep/configuration.yaml`, without the input, output and partition-list
/// paths, which differ between machines) must equal the first source's, and the destination's
/// when it already has them; those two files and `pipeline.yaml` come from the first source.
/// Files are hard-linked when
/// source and destination share a file system and copied atomically otherwise, so the sources
/// are never changed. A name present in two places with different bytes is refused, naming
/// both; identical files (a re-run of the gathering) are skipped. Journals and worker reports
/// come along, so the destination resumes like a shared folder.
public enum WorkerOutputGathering {
    /// What a gathering did.
    public struct Summary: Equatable, Sendable {
        /// Files linked or copied into the destination.
        public var filesAdded = 0
        /// Files the destination already held with the same bytes.
        public var filesAlreadyPresent = 0
        /// Worker reports found (`report-worker-I-of-N.json`), over all sources.
        public var workerReports = 0
    }

    /// The folders and files a worker's output holds, relative to its root.
    static let dataFolders = [
        "train", "cihp_train_mask", "test", "cihp_test_mask", "train_instance", "test_instance", "split",
    ]
    static let sharedFiles = [
        PreparedLayout.stateFolder + "/configuration.yaml", PreparedLayout.classes, PreparedLayout.pipeline,
    ]

    /// Gathers `sources` into `destination` (created when missing). Throws `MergeError` naming
    /// the folder and file at the first conflict; files gathered before it stay (a re-run
    /// after fixing the conflict skips them).
    public static func gather(from sources: [String], into destination: String) throws -> Summary {
        guard !sources.isEmpty else { throw MergeError(folder: destination, message: "no worker folders to gather") }
        var summary = Summary()
        try checkSameConfiguration(sources, destination: destination)
        try checkSameWorkerCount(sources, destination: destination)
        // The configuration files, checked equal above, come from the first source.
        for file in sharedFiles where !FileManager.default.fileExists(atPath: destination + "/" + file) {
            let source = sources[0] + "/" + file
            if FileManager.default.fileExists(atPath: source), try place(source, at: destination + "/" + file) {
                summary.filesAdded += 1
            }
        }
        for source in sources {
            let reports = workerReports(in: source)
            guard !reports.isEmpty else {
                throw MergeError(
                    folder: source, message: "no report-worker-*.json: not the output of a finished --worker run")
            }
            summary.workerReports += reports.count
            var files = reports
            let journals = names(in: source + "/" + PreparedLayout.stateFolder).filter { $0.hasPrefix("journal-") }
            files += journals.map { PreparedLayout.stateFolder + "/" + $0 }
            for folder in dataFolders { files += try relativeFiles(under: folder, in: source) }
            for file in files {
                if try place(source + "/" + file, at: destination + "/" + file) {
                    summary.filesAdded += 1
                } else {
                    summary.filesAlreadyPresent += 1
                }
            }
        }
        return summary
    }

    /// Refuses, before anything is copied, slices of different worker counts (`report-worker-I-of-N.json`
    /// and the journals name N), which could never merge into one run.
    private static func checkSameWorkerCount(_ sources: [String], destination: String) throws {
        var first: (folder: String, count: Int)?
        for folder in sources + [destination] {
            let names = names(in: folder) + names(in: folder + "/" + PreparedLayout.stateFolder)
            for name in names where name.hasPrefix("report-worker-") || name.hasPrefix("journal-") {
                guard let count = workerCount(inName: name) else { continue }
                if let first, first.count != count {
                    throw MergeError(
                        folder: folder,
                        message: "\(name) is a slice of \(count) workers, \(first.folder) holds slices of "
                            + "\(first.count); nothing was gathered")
                }
                if first == nil { first = (folder, count) }
            }
        }
    }

    /// The entries of `folder`; none when it cannot be listed.
    static func names(in folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }

    /// The `report-worker-I-of-N.json` files in `folder`.
    static func workerReports(in folder: String) -> [String] {
        names(in: folder).filter { $0.hasPrefix("report-worker-") && $0.hasSuffix(".json") }
    }

    /// N in `…-I-of-N.json` or `…-I-of-N.jsonl`.
    static func workerCount(inName name: String) -> Int? {
        guard let range = name.range(of: "-of-", options: .backwards) else { return nil }
        return Int(name[range.upperBound...].prefix { $0.isNumber })
    }

    /// Refuses sources (or a destination) prepared with another configuration.
    private static func checkSameConfiguration(_ sources: [String], destination: String) throws {
        for (file, comparable) in [(PreparedLayout.classes, { (text: String) in text }),
                                   (PreparedLayout.stateFolder + "/configuration.yaml", withoutPaths)] {
            var reference: (folder: String, text: String)?
            for folder in sources + [destination] {
                guard let text = try? String(contentsOfFile: folder + "/" + file, encoding: .utf8) else {
                    if folder == destination { continue }
                    throw MergeError(folder: folder, message: "\(file) is missing: not the output of a pipeline run")
                }
                if let reference, comparable(reference.text) != comparable(text) {
                    throw MergeError(
                        folder: folder,
                        message: "\(file) differs from \(reference.folder)/\(file): "
                            + "prepared with another configuration")
                }
                if reference == nil { reference = (folder, text) }
            }
        }
    }

    /// A fingerprint without the lines that name machine-specific paths.
    private static func withoutPaths(_ fingerprint: String) -> String {
        fingerprint.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !["images:", "labels:", "output:", "  list:"].contains { line.hasPrefix($0) } }
            .joined(separator: "\n")
    }

    /// Files below `folder` of `root`, as paths relative to `root`, sorted; none when absent.
    private static func relativeFiles(under folder: String, in root: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root + "/" + folder) else { return [] }
        var files: [String] = []
        while let name = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + folder + "/" + name, isDirectory: &isFolder),
                  !isFolder.boolValue, !AtomicFileWriter.isTemporary(fileName: (name as NSString).lastPathComponent)
            else { continue }
            files.append(folder + "/" + name)
        }
        return files.sorted()
    }

    /// Links or copies `source` to `target`; false when `target` already holds the same bytes.
    private static func place(_ source: String, at target: String) throws -> Bool {
        let manager = FileManager.default
        if manager.fileExists(atPath: target) {
            guard manager.contentsEqual(atPath: source, andPath: target) else {
                let name = (target as NSString).lastPathComponent
            throw MergeError(
                folder: (target as NSString).deletingLastPathComponent,
                message: "\(name) exists with other contents than \(source)")
            }
            return false
        }
        let folder = (target as NSString).deletingLastPathComponent
        do { try manager.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw MergeError(folder: folder, message: "cannot create the folder: \(error.localizedDescription)")
        }
        if link(source, target) == 0 { return true }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
            throw MergeError(folder: folder, message: "cannot link \(source): \(String(cString: strerror(errno)))")
        }
        guard let bytes = manager.contents(atPath: source) else {
            throw MergeError(folder: (source as NSString).deletingLastPathComponent, message: "cannot read \(source)")
        }
        do { try AtomicFileWriter.write(bytes, to: target) } catch {
            throw MergeError(folder: folder, message: "cannot copy \(source): \(error)")
        }
        return true
    }
}
