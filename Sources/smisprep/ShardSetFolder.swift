import ArgumentParser
import Foundation
import Records

/// The shard set folder that `verify`, `inspect` and `export` take as their argument.
struct ShardSetFolder: ParsableArguments {
    @Argument(help: "The shard set folder (holding manifest.json).")
    var directory: String

    var url: URL { URL(fileURLWithPath: directory) }

    /// The set, its manifest and indexes read and checked.
    func open() throws -> ShardSet { try ShardSet(directory: url) }
}
