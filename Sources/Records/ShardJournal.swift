import AtomicFiles
import Foundation
import ImageIO

/// The writer's progress file, `.shard-journal.json`: one entry per completed shard.
struct ShardJournal: Codable {
    static let fileName = ".shard-journal.json"

    struct Entry: Codable {
        var shard: Manifest.Shard
        var firstInput: Int
        var endInput: Int
        var inputDigest: String
        var skipped: [Skip]

        /// True when the entry names `SPLIT-NNNNN.tfrecord` of its split and that shard's index.
        var namesAShardOfThisWriter: Bool {
            let name = shard.name
            return Manifest.isPlainFileName(name) && ShardSetWriter.isShardFileName(name) && name.hasSuffix(".tfrecord")
                && name.hasPrefix(shard.split + "-") && shard.index == ShardIndex.fileName(forShard: name)
        }

        /// The skipped inputs as the result reports them, named by `source`.
        func skippedSamples(of source: RecordSource) -> [SkippedSample] {
            skipped.map { SkippedSample(stem: source.name($0.input), split: $0.split, reason: $0.reason) }
        }
    }

    /// How the journal records an input a shard left out: by its index in the source, so that
    /// a reused shard names it again (`Entry.skippedSamples(of:)`). The result reports the
    /// input as a `SkippedSample`.
    struct Skip: Codable {
        var split: String
        var input: Int
        var reason: String
    }

    var settingsFingerprint: String
    var entries: [Entry]

    /// The journal of an earlier run with the same settings, or an empty one. A journal naming
    /// a file other than a shard of this writer (`SPLIT-NNNNN.tfrecord` and its index) is
    /// ignored whole: the writer deletes the files of entries it replaces.
    static func load(from directory: URL, settingsFingerprint: String) -> ShardJournal {
        let url = directory.appendingPathComponent(fileName)
        if let data = try? Data(contentsOf: url),
            let journal = try? JSONDecoder().decode(ShardJournal.self, from: data),
            journal.settingsFingerprint == settingsFingerprint,
            journal.entries.allSatisfy(\.namesAShardOfThisWriter)
        {
            return journal
        }
        return ShardJournal(settingsFingerprint: settingsFingerprint, entries: [])
    }

    func entry(named name: String) -> Entry? { entries.first { $0.shard.name == name } }

    /// Drops the entries of `split` numbered `number` and above; returns them.
    @discardableResult
    mutating func removeEntries(split: String, fromNumber number: Int) -> [Entry] {
        let first = ShardSetWriter.shardName(split: split, number: number)
        let removed = entries.filter { $0.shard.split == split && $0.shard.name >= first }
        entries.removeAll { $0.shard.split == split && $0.shard.name >= first }
        return removed
    }

    func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFileWriter.write(encoder.encode(self), to: directory.appendingPathComponent(Self.fileName).path)
    }
}
