// bench-statistics: the cost of `StatisticsAccumulator` over a synthetic 10,000-sample set
// (256×256 label maps and photos), against one plain read pass over the same data measured in
// the same run.
//
//   swift build -c release --product bench-statistics
//   .build/release/bench-statistics [--samples N] [--threads T] [--disk]
//
// In memory (always): the bound is a two-thread pass that reads every label and photo byte
// once (a vectorised byte sum, so the compiler cannot drop it); the measured pass adds every
// sample to per-thread accumulators and merges them. Ratio = statistics / read pass.
// With --disk (needs ImageIO's codecs): the samples are written as PNG labels and JPEG photos
// to a temporary folder; the bound is a two-thread decode of every file, the measured pass is
// `StatisticsScan.run` (decode + accumulate). Ratio = scan / decode.
import Dispatch
import Foundation
import ImageIO
import Statistics

struct Options {
    var samples = 10_000
    var threads = 2
    var disk = false

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--samples": samples = Int(rest.popFirst() ?? "") ?? samples
            case "--threads": threads = Int(rest.popFirst() ?? "") ?? threads
            case "--disk": disk = true
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(64)
            }
        }
    }
}

/// A seeded xorshift generator: reproducible data without Foundation's random.
struct XorShift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

let side = 256
let classNames = ["hair", "face", "skin", "top-clothes", "bottom-clothes", "socks", "shoes", "background"]

/// A person-like label map: head (hair over face), torso, arms, legs, socks, shoes on background,
/// shifted and scaled per sample.
func syntheticLabel(_ index: Int, _ random: inout XorShift) -> LabelMap {
    var values = [UInt8](repeating: 7, count: side * side)
    let dx = Int(random.next() % 40) - 20, dy = Int(random.next() % 20) - 10
    func fill(_ value: UInt8, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) {
        for y in max(0, y0 + dy)..<min(side, y1 + dy) {
            for x in max(0, x0 + dx)..<min(side, x1 + dx) { values[y * side + x] = value }
        }
    }
    fill(0, 108, 10, 148, 30)  // hair
    fill(1, 112, 30, 144, 60)  // face
    fill(2, 70, 70, 90, 150)  // left arm
    fill(2, 166, 70, 186, 150)  // right arm
    fill(3, 90, 62, 166, 140)  // top
    fill(4, 96, 140, 160, 220)  // trousers
    if index % 3 == 0 { fill(5, 96, 220, 160, 232) }  // socks on a third
    fill(6, 92, 232, 164, 246)  // shoes
    return LabelMap(width: side, height: side, values: values)
}

/// A photo: a colour per class plus 0…31 of noise per byte.
func syntheticPhoto(for label: LabelMap, _ random: inout XorShift) -> Image {
    let base: [(UInt8, UInt8, UInt8)] = [
        (60, 40, 20), (220, 180, 150), (200, 160, 130), (30, 60, 160), (40, 40, 60), (240, 240, 240), (20, 20, 20),
        (180, 190, 200)
    ]
    var pixels = [UInt8](repeating: 0, count: side * side * 3)
    var noise = random.next()
    for i in 0..<(side * side) {
        if i % 2 == 0 { noise = random.next() }
        let (r, g, b) = base[Int(label.values[i])]
        pixels[3 * i] = r &+ UInt8(noise & 31)
        pixels[3 * i + 1] = g &+ UInt8((noise >> 5) & 31)
        pixels[3 * i + 2] = b &+ UInt8((noise >> 10) & 31)
        noise >>= 15
    }
    return Image(width: side, height: side, pixels: pixels)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs `body(thread)` on `threads` threads and waits.
func parallel(_ threads: Int, _ body: (Int) -> Void) {
    DispatchQueue.concurrentPerform(iterations: threads, execute: body)
}

/// Collects per-thread values under a lock.
final class Slots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value] = []
    func add(_ value: Value) { lock.lock(); values.append(value); lock.unlock() }
    var all: [Value] { lock.lock(); defer { lock.unlock() }; return values }
}

/// A checksum of all bytes, 64 bytes at a time: one read of the data, cheap enough that
/// memory bandwidth bounds it (fields may carry into each other; it only has to depend on
/// every byte).
func byteSum(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { raw in
        var lanes = SIMD8<UInt64>()
        let mask = SIMD8<UInt64>(repeating: 0x00FF_00FF_00FF_00FF)
        let words = raw.count / 64
        for w in 0..<words {
            let v = raw.loadUnaligned(fromByteOffset: w * 64, as: SIMD8<UInt64>.self)
            lanes &+= (v & mask) &+ ((v &>> 8) & mask)
        }
        var total = lanes.wrappedSum()
        for i in (words * 64)..<raw.count { total &+= UInt64(raw[i]) }
        return total
    }
}

let options = Options(CommandLine.arguments)
print("bench-statistics: \(options.samples) samples of \(side)×\(side), \(options.threads) threads")

var labels: [LabelMap] = []
var photos: [Image] = []
labels.reserveCapacity(options.samples)
photos.reserveCapacity(options.samples)
let generation = seconds {
    var random = XorShift(state: 0x5EED)
    for index in 0..<options.samples {
        let label = syntheticLabel(index, &random)
        // Every 1,000th photo repeats the one before it, so duplicates are found too.
        let photo = index % 1_000 == 999 ? photos[index - 1] : syntheticPhoto(for: label, &random)
        labels.append(label)
        photos.append(photo)
    }
}
let megabytes = Double(options.samples * side * side * 4) / 1e6
print("generated \(String(format: "%.0f", megabytes)) MB in \(String(format: "%.2f", generation)) s")

func readPass() -> (Double, UInt64) {
    let sums = Slots<UInt64>()
    let time = seconds {
        parallel(options.threads) { thread in
            var total: UInt64 = 0
            for i in stride(from: thread, to: options.samples, by: options.threads) {
                total &+= byteSum(labels[i].values) &+ byteSum(photos[i].pixels)
            }
            sums.add(total)
        }
    }
    return (time, sums.all.reduce(0, &+))
}

func statisticsPass() -> (Double, DatasetStatistics) {
    let parts = Slots<StatisticsAccumulator>()
    var result: DatasetStatistics?
    let time = seconds {
        parallel(options.threads) { thread in
            var accumulator = StatisticsAccumulator(classNames: classNames)
            for i in stride(from: thread, to: options.samples, by: options.threads) {
                accumulator.add(
                    label: labels[i], photo: photos[i], partition: i % 10 == 0 ? "val" : "train", key: "s\(i)")
            }
            parts.add(accumulator)
        }
        var merged = StatisticsAccumulator(classNames: classNames)
        for part in parts.all { merged.merge(part) }
        result = merged.finish()
    }
    return (time, result!)
}

// Warm up once (page faults, caches), then take the best of three of each, interleaved.
_ = readPass()
_ = statisticsPass()
var bestRead = Double.infinity, bestStatistics = Double.infinity
var checksum: UInt64 = 0
var statistics: DatasetStatistics?
for _ in 0..<3 {
    let (readTime, sum) = readPass()
    let (statisticsTime, stats) = statisticsPass()
    bestRead = min(bestRead, readTime)
    bestStatistics = min(bestStatistics, statisticsTime)
    checksum = sum
    statistics = stats
}
print(
    String(
        format: "in memory: read pass %.3f s (%.2f GB/s), statistics %.3f s (%.2f GB/s), ratio %.2f",
        bestRead, megabytes / 1e3 / bestRead, bestStatistics, megabytes / 1e3 / bestStatistics,
        bestStatistics / bestRead))
print(
    "  (checksum \(checksum); \(statistics!.sampleCount) samples, "
        + "\(statistics!.duplicates.redundantPhotoCount) duplicate photos, socks in \(statistics!.classes[5].images) images)"
)

if options.disk {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-statistics-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    var samples: [SampleFiles] = []
    do {
        for sub in ["train", "cihp_train_mask"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let writing = try seconds {
            for i in 0..<options.samples {
                let photoPath = folder.appendingPathComponent("train/s\(i).jpg").path
                let labelPath = folder.appendingPathComponent("cihp_train_mask/s\(i).png").path
                try Data(try photos[i].encodedJPEG(quality: 95)).write(to: URL(fileURLWithPath: photoPath))
                try Data(try labels[i].encodedPNG()).write(to: URL(fileURLWithPath: labelPath))
                samples.append(
                    SampleFiles(key: "s\(i)", labelPath: labelPath, photoPath: photoPath, partition: "train"))
            }
        }
        print(String(format: "wrote %d JPEG + PNG pairs in %.1f s", options.samples, writing))
    } catch {
        print("--disk skipped: \(error)")
        exit(0)
    }
    labels = []
    photos = []
    func decodePass() -> Double {
        let failures = Slots<Int>()
        let time = seconds {
            parallel(options.threads) { thread in
                var failed = 0
                for i in stride(from: thread, to: samples.count, by: options.threads) {
                    if (try? LabelMap(contentsOfFile: samples[i].labelPath)) == nil { failed += 1 }
                    if (try? Image(contentsOfFile: samples[i].photoPath!)) == nil { failed += 1 }
                }
                failures.add(failed)
            }
        }
        precondition(failures.all.reduce(0, +) == 0, "decoding failed")
        return time
    }
    func scanPass() -> Double {
        seconds {
            let result = StatisticsScan.run(
                samples, into: StatisticsAccumulator(classNames: classNames), threads: options.threads)
            precondition(result.skipped.isEmpty, "scan skipped \(result.skipped.count) samples")
            _ = result.accumulator.finish()
        }
    }
    _ = decodePass()
    var bestDecode = Double.infinity, bestScan = Double.infinity
    for _ in 0..<2 {
        bestDecode = min(bestDecode, decodePass())
        bestScan = min(bestScan, scanPass())
    }
    print(
        String(
            format: "from files: decode pass %.3f s, decode + statistics %.3f s, ratio %.2f",
            bestDecode, bestScan, bestScan / bestDecode))
}
