import Foundation
import Records
import XCTest
import _TestSupport

final class LoaderTests: TemporaryFolderTestCase {
    private func numbers(_ loader: SegmentationLoader, _ count: Int) throws -> [Int] {
        var taken: [Int] = []
        for _ in 0..<count {
            guard let sample = try loader.next() else { break }
            XCTAssertEqual(Synthetic.key(Synthetic.number(ofPixels: sample.pixels)), sample.key)
            taken.append(Synthetic.number(ofPixels: sample.pixels))
        }
        return taken
    }

    func testSamplesAreDecodedIntoTheirBuffersWithTheirSplit() throws {
        try Synthetic.writeSet(folder, count: 12, width: 5, height: 4)
        let set = try ShardSet(directory: folder)
        let loader = try SegmentationLoader(set: set, options: .init(seed: 3, shuffle: false, epochLimit: 1))
        var index = 0
        while let sample = try loader.next() {
            let expected = Synthetic.sample(number: index, width: 5, height: 4)
            XCTAssertEqual(Array(sample.pixels), expected.image.pixels)
            XCTAssertEqual(Array(sample.label), expected.label.values)
            XCTAssertEqual(sample.split, try SegmentationRecord.classSplit(of: expected.label, classCount: 8))
            index += 1
        }
        XCTAssertEqual(index, 12)
    }

    func testEachEpochVisitsEverySampleOnceInADifferentOrder() throws {
        try Synthetic.writeSet(folder, count: 45)
        let loader = try SegmentationLoader(
            set: try ShardSet(directory: folder), options: .init(seed: 9, queueDepth: 4))
        let first = try numbers(loader, 45), second = try numbers(loader, 45)
        XCTAssertEqual(first.sorted(), Array(0..<45))
        XCTAssertEqual(second.sorted(), Array(0..<45))
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(loader.state, ReaderState(epoch: 2, position: 0, seed: 9))
    }

    func testResumedIterationEqualsUninterruptedOne() throws {
        try Synthetic.writeSet(folder, count: 23)
        let set = try ShardSet(directory: folder)
        let options = SegmentationLoader.Options(seed: 4, windowShards: 2, queueDepth: 3)
        let uninterrupted = try numbers(try SegmentationLoader(set: set, options: options), 80)
        let before = try SegmentationLoader(set: set, options: options)
        let head = try numbers(before, 37)
        let saved = try JSONDecoder().decode(ReaderState.self, from: try JSONEncoder().encode(before.state))
        let tail = try numbers(try SegmentationLoader(set: set, options: options, state: saved), 43)
        XCTAssertEqual(head + tail, uninterrupted)
        for position in [-1, 23] {
            XCTAssertThrowsError(
                try SegmentationLoader(set: set, options: options, state: ReaderState(position: position, seed: 4))
            ) {
                XCTAssertTrue(
                    "\($0)".contains("the saved reader position \(position) is outside the set's 23 records"), "\($0)")
            }
        }
    }

    /// Two workers in lockstep for 7 steps, then three workers resume from the saved state:
    /// together they take exactly the single-worker stream, nothing repeated or lost.
    func testResumeWithAnotherWorkerCountContinuesTheSameStream() throws {
        try Synthetic.writeSet(folder, count: 20)
        let set = try ShardSet(directory: folder)
        let reference = try numbers(try SegmentationLoader(set: set, options: .init(seed: 2)), 50)

        let pair = try (0..<2).map { try SegmentationLoader(set: set, options: .init(seed: 2, rank: $0, worldSize: 2)) }
        var taken: [Int: Int] = [:]  // stream index → sample number
        for _ in 0..<7 {
            for loader in pair {
                let sample = try XCTUnwrap(try loader.next())
                taken[Int(sample.streamIndex)] = Synthetic.number(ofPixels: sample.pixels)
            }
        }
        XCTAssertEqual(pair[0].state, pair[1].state)
        let saved = pair[0].state
        XCTAssertEqual(saved, ReaderState(epoch: 0, position: 14, seed: 2, worldSize: 2))
        let trio = try (0..<3).map {
            try SegmentationLoader(set: set, options: .init(seed: 2, rank: $0, worldSize: 3), state: saved)
        }
        for _ in 0..<12 {
            for loader in trio {
                let sample = try XCTUnwrap(try loader.next())
                XCTAssertNil(taken[Int(sample.streamIndex)], "stream index \(sample.streamIndex) taken twice")
                taken[Int(sample.streamIndex)] = Synthetic.number(ofPixels: sample.pixels)
            }
        }
        XCTAssertEqual(taken.keys.sorted(), Array(0..<50))
        XCTAssertEqual((0..<50).map { taken[$0]! }, reference)
    }

    /// Several decode threads deliver exactly the single-thread stream, skips included.
    func testDecodeThreadsDoNotChangeTheOrder() throws {
        try Synthetic.writeSet(folder, count: 40)
        let recordSize = try Synthetic.payload(number: 0, width: 8, height: 6).count + TFRecord.overhead
        try modify("train-00002.tfrecord") { $0[5 * recordSize + 60] ^= 0x02 }
        let set = try ShardSet(directory: folder)
        func stream(threads: Int) throws -> ([Int], [String?]) {
            let loader = try SegmentationLoader(
                set: set, options: .init(seed: 8, windowShards: 2, queueDepth: 3, decodeThreads: threads, epochLimit: 3)
            )
            var taken: [Int] = []
            while let sample = try loader.next() { taken.append(Synthetic.number(ofPixels: sample.pixels)) }
            return (taken, loader.skipped.map(\.key))
        }
        let single = try stream(threads: 1)
        XCTAssertEqual(single.0.count, 3 * 39)
        XCTAssertEqual(single.1, Array(repeating: "sample-00025", count: 3))
        for threads in [2, 3] {
            let parallel = try stream(threads: threads)
            XCTAssertEqual(parallel.0, single.0, "\(threads) threads")
            XCTAssertEqual(parallel.1, single.1, "\(threads) threads")
        }
    }

    /// Streams a set 1,000 times larger than the queue, three epochs over: anonymous memory (not
    /// the file pages of the map) must not grow with the number of samples read.
    func testMemoryStaysFlatWhileStreaming() throws {
        try Synthetic.writeSet(folder, count: 4000, sizing: .records(500), width: 64, height: 64)
        let set = try ShardSet(directory: folder)
        let loader = try SegmentationLoader(set: set, options: .init(seed: 1, queueDepth: 4, decodeThreads: 2))
        _ = try numbers(loader, 500)
        let warm = try anonymousResidentKiB()
        var checksum = 0
        for _ in 0..<12_000 {
            let sample = try XCTUnwrap(try loader.next())
            checksum &+= Int(sample.label[7])
        }
        let after = try anonymousResidentKiB()
        // 12,000 samples × 16 KiB = 188 MiB went through; allow 8 MiB of noise.
        XCTAssertLessThan(
            after - warm, 8 * 1024, "anonymous RSS grew from \(warm) KiB to \(after) KiB (checksum \(checksum))")
    }

    private func anonymousResidentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
                ?? Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
        else { throw XCTSkip("no RssAnon in /proc/self/status") }
        return kib
    }
}
