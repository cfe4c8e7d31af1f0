import ArgumentParser
import Foundation
import Records

/// `smisprep verify`: checks every CRC, index entry, hash and label value of a shard set.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, index entry, hash, label value and size of a shard set.",
        discussion: """
            Lists every problem with shard, record number, byte offset and key; exits with 1 when there is any.
            """)

    @OptionGroup var shardSet: ShardSetFolder

    @Flag(help: "Skip decoding JPEG/PNG photos and labels (checks framing, hashes and raw records only).")
    var noDecode = false

    @Option(parsing: .unconditional, help: "Shards checked in parallel.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if !(1...maximumJobs).contains(jobs) { throw ValidationError("--jobs must be between 1 and \(maximumJobs).") }
    }

    func run() throws {
        let report = ShardSetVerifier.verify(directory: shardSet.url, decodeImages: !noDecode, jobs: jobs)
        for problem in report.problems { print("problem: \(problem)") }
        print("""
            \(report.shardsChecked) shards, \(report.recordsChecked) records checked, \(report.problems.count) problems
            """)
        if !report.isClean { throw ExitCode.failure }
    }
}
