// bench-records: shard write and read throughput, against bounds measured in the same run.
//
//   swift build -c release --product bench-records && .build/release/bench-records [RECORDS] [DIR]
//
// 1. Write: samples/s and MB/s of `ShardSetWriter` (encode Example + frame + CRC + SHA-256 +
//    fsync) for 256 KiB raw records, on every core.
// 2. Read from page cache on one core: CRC-checked framing + Example parse of every record,
//    in GB/s, beside the bare CRC32C speed over the same bytes (the bound) and the Python
//    `tfrecord` package reading the same shards (the ecosystem baseline; it checks no CRC).
// 3. Encoded records (256×256 JPEG + PNG label; needs the ImageIO codecs): decoded samples/s of
//    `SegmentationLoader` with one decode thread and with one per core, against decoding the same
//    bytes in a plain loop on one thread (the decode-only bound), and the Python reader's
//    records/s on those shards.
import Foundation
import ImageIO
import Records

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Best wall time of `repeats` runs of `body`.
func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<repeats {
        let start = now()
        try body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

let arguments = CommandLine.arguments
let recordCount = arguments.count > 1 ? Int(arguments[1]) ?? 1024 : 1024
let root = URL(fileURLWithPath: arguments.count > 2 ? arguments[2] : NSTemporaryDirectory())
    .appendingPathComponent("bench-records-\(getpid())")
defer { try? FileManager.default.removeItem(at: root) }
let classes = ["hair", "face", "skin", "top", "bottom", "socks", "shoes", "background"]
let side = 256

print(
    "bench-records: \(recordCount) records of \(side)×\(side), CRC32C hardware: \(CRC32C.usesHardware), cores: "
        + "\(ProcessInfo.processInfo.activeProcessorCount)")

// MARK: Synthetic samples (a smooth photo and a blocky label map, like a person on a backdrop)

func photo(_ number: Int) -> Image {
    var pixels = [UInt8](repeating: 0, count: side * side * 3)
    for y in 0..<side {
        for x in 0..<side {
            let i = 3 * (y * side + x)
            pixels[i] = UInt8(truncatingIfNeeded: x + number)
            pixels[i + 1] = UInt8(truncatingIfNeeded: y * 2 + number * 3)
            pixels[i + 2] = UInt8(truncatingIfNeeded: (x ^ y) + number)
        }
    }
    return Image(width: side, height: side, pixels: pixels)
}

func labelMap(_ number: Int) -> LabelMap {
    var values = [UInt8](repeating: 7, count: side * side)
    for y in 0..<side {
        for x in 0..<side where abs(x - side / 2) < 40 + number % 16 {
            values[y * side + x] = UInt8(min(6, y / 40))
        }
    }
    return LabelMap(width: side, height: side, values: values)
}

func writeSet(
    _ directory: URL, payload: @escaping (Int) throws -> [UInt8], settings: [String: String]
) throws -> ShardSetWriter.Result {
    let configuration = ShardSetWriter.Configuration(
        directory: directory, sizing: .bytes(64 << 20), jobs: ProcessInfo.processInfo.activeProcessorCount,
        toolVersion: "bench-records", schema: SegmentationRecord.schema, classes: classes, settings: settings)
    let source = RecordSource(split: "train", count: recordCount, identity: { "\($0)" }, payload: payload)
    return try ShardSetWriter(configuration: configuration).write([source])
}

/// Runs the Python `tfrecord` package over `shards` twice: `tfrecord_iterator` (framing only)
/// and `tfrecord_loader` (framing + Example parse into arrays). Returns (records/s, GB/s of
/// file bytes) for each, or nil with the reason printed.
func pythonBaseline(_ shards: [URL]) -> (framing: (Double, Double), parsed: (Double, Double))? {
    let script = """
        import os, sys, time
        try:
            from tfrecord.reader import tfrecord_loader
        except ImportError:
            print("missing"); sys.exit(0)
        from tfrecord.reader import tfrecord_iterator
        paths = sys.argv[1:]
        size = sum(os.path.getsize(p) for p in paths)
        for read in (lambda p: tfrecord_iterator(p), lambda p: tfrecord_loader(p, None)):
            best = 1e9
            for _ in range(3):
                start = time.perf_counter(); n = 0
                for p in paths:
                    for r in read(p):
                        n += 1
                best = min(best, time.perf_counter() - start)
            print(n / best, size / best / 1e9)
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + shards.map(\.path)
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { print("  python: not found"); return nil }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
    guard fields.count == 4 else {
        print(
            "python tfrecord: unavailable (\(text.trimmingCharacters(in: .whitespacesAndNewlines)); pip install "
                + "tfrecord)")
        return nil
    }
    return ((fields[0], fields[1]), (fields[2], fields[3]))
}

// MARK: 1. Write 256 KiB raw records

let rawDirectory = root.appendingPathComponent("raw")
let photos = (0..<16).map(photo), labels = (0..<16).map(labelMap)
let writeStart = now()
let written = try writeSet(
    rawDirectory,
    payload: { number in
        try SegmentationRecord.example(
            key: "sample-\(number)", photo: .pixels(photos[number % 16]), label: labels[number % 16],
            classCount: 8, imageEncoding: .raw, labelEncoding: .raw
        ).encoded()
    }, settings: ["image": "raw", "label": "raw"])
let writeSeconds = now() - writeStart
let rawBytes = written.manifest.shards.reduce(0) { $0 + $1.bytes }
print(
    "write  raw: \(format(Double(recordCount) / writeSeconds, 0)) samples/s, \(format(Double(rawBytes) / writeSeconds / 1e6, 0)) MB/s "
        + "(\(written.manifest.shards.count) shards, \(rawBytes / recordCount) bytes/record, \(ProcessInfo.processInfo.activeProcessorCount) jobs, fsync included)"
)
// Bound: the same number of bytes written by plain write(2) calls of 4 MiB and one fsync.
let boundFile = root.appendingPathComponent("write-bound")
let chunk = [UInt8](repeating: 0x5A, count: 4 << 20)
let writeBoundSeconds = best(1) {
    let descriptor = open(boundFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var remaining = rawBytes
    while remaining > 0 {
        let count = min(remaining, chunk.count)
        _ = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress!, count) }
        remaining -= count
    }
    fsync(descriptor)
    close(descriptor)
}
unlink(boundFile.path)
let writeBound = Double(rawBytes) / writeBoundSeconds / 1e6
print(
    "bound  plain write + fsync of the same bytes: \(format(writeBound, 0)) MB/s → writer/bound "
        + "\(format(Double(rawBytes) / writeSeconds / 1e6 / writeBound))")

// MARK: 2. Read + CRC + parse from page cache, one core

let set = try ShardSet(directory: rawDirectory)
var touched = 0
let readSeconds = try best(5) {
    for global in 0..<set.count {
        let record = try set.record(at: global)
        let view = try SegmentationRecord.View(payload: record.payload)
        touched &+= view.imageBytes.count &+ view.labelBytes.count
    }
}
let crcSeconds = best(5) {
    for shard in set.shards { touched &+= Int(CRC32C.checksum(shard.file.bytes)) }
}
let readGBs = Double(rawBytes) / readSeconds / 1e9
let crcGBs = Double(rawBytes) / crcSeconds / 1e9
print(
    "read   raw: \(format(readGBs)) GB/s, \(format(Double(set.count) / readSeconds, 0)) records/s (CRC checked + "
        + "Example parsed, one core)")
print("bound  CRC32C alone over the same bytes: \(format(crcGBs)) GB/s → read/bound \(format(readGBs / crcGBs))")
print("target read ≥ 4 GB/s: \(readGBs >= 4 ? "met" : "NOT met") (\(format(readGBs / 4)))")
if let python = pythonBaseline(set.shards.map(\.file.url)) {
    print(
        "python tfrecord_iterator (framing, no CRC): \(format(python.framing.1)) GB/s, "
            + "\(format(python.framing.0, 0)) records/s")
    print(
        "python tfrecord_loader (framing + parse, no CRC): \(format(python.parsed.1)) GB/s, "
            + "\(format(python.parsed.0, 0)) records/s")
    print(
        "ratio  ours/python records/s: \(format(Double(set.count) / readSeconds / python.framing.0)) vs iterator, "
            + "\(format(Double(set.count) / readSeconds / python.parsed.0)) vs loader (target ≥ 1)")
}

// MARK: 3. Encoded records, decoded

do {
    let jpegs = try photos.map { try $0.encodedJPEG(quality: 95) }
    let pngs = try labels.map { try $0.encodedPNG() }
    let encodedDirectory = root.appendingPathComponent("encoded")
    let encodedWriteStart = now()
    _ = try writeSet(
        encodedDirectory,
        payload: { number in
            try SegmentationRecord.example(
                key: "sample-\(number)",
                photo: .encoded(bytes: jpegs[number % 16], format: .jpeg, width: side, height: side),
                label: labels[number % 16], labelFileBytes: pngs[number % 16], classCount: 8,
                imageEncoding: .jpeg(quality: nil),
                labelEncoding: .png
            ).encoded()
        }, settings: ["image": "jpeg", "label": "png"])
    let encodedWriteSeconds = now() - encodedWriteStart
    let encodedSet = try ShardSet(directory: encodedDirectory)
    let encodedBytes = encodedSet.shards.reduce(0) { $0 + $1.entry.bytes }
    print(
        "write  encoded: \(format(Double(recordCount) / encodedWriteSeconds, 0)) samples/s, "
            + "\(encodedBytes / recordCount) bytes/record")

    var pixels = [UInt8](repeating: 0, count: side * side * 3), values = [UInt8](repeating: 0, count: side * side)
    let decodeOnly = try best(3) {
        for number in 0..<recordCount {
            try jpegs[number % 16].withUnsafeBytes { bytes in
                try pixels.withUnsafeMutableBufferPointer {
                    try Image.decode(bytes, source: "bench", into: $0, width: side, height: side)
                }
            }
            try pngs[number % 16].withUnsafeBytes { bytes in
                try values.withUnsafeMutableBufferPointer {
                    try LabelMap.decode(bytes, source: "bench", into: $0, width: side, height: side)
                }
            }
        }
    }
    let boundRate = Double(recordCount) / decodeOnly
    print("decode-only bound (one thread, decode calls alone): \(format(boundRate, 0)) samples/s")
    for decodeThreads in Set([1, ProcessInfo.processInfo.activeProcessorCount]).sorted() {
        let loaderSeconds = try best(3) {
            let loader = try SegmentationLoader(
                set: encodedSet, options: .init(seed: 1, queueDepth: 8, decodeThreads: decodeThreads, epochLimit: 1))
            while let sample = try loader.next() { touched &+= Int(sample.label[0]) }
        }
        let loaderRate = Double(recordCount) / loaderSeconds
        print(
            "loader, \(decodeThreads) decode thread(s): \(format(loaderRate, 0)) samples/s (CRC + parse + decode, shuffled) → "
                + "\(format(loaderRate / boundRate)) of the bound (target ≥ 0.9)")
    }
    if let python = pythonBaseline(encodedSet.shards.map(\.file.url)) {
        let pythonRecords = python.parsed.0
        var parsed = 0
        let parseSeconds = try best(5) {
            for global in 0..<encodedSet.count {
                parsed &+= try encodedSet.segmentationRecord(at: global).imageBytes.count
            }
        }
        let ours = Double(encodedSet.count) / parseSeconds
        print(
            "read   encoded: \(format(ours, 0)) records/s; python tfrecord: \(format(pythonRecords, 0)) records/s → "
                + "\(format(ours / pythonRecords))")
        touched &+= parsed
    }
} catch {
    print("encoded records: skipped (\(error)); needs the ImageIO codecs")
}
print("(checksum \(touched & 0xFF))")
