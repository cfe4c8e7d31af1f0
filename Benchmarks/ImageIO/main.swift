// bench-imageio: decode and resize throughput of the photo and label formats the pipeline
// reads, on one and two threads. Not a test: run it in release and read the figures.
//
//   swift run -c release bench-imageio [seconds-per-measurement]
//
// Inputs are synthesised here (no data set needed): a 750×1101 textured photo encoded as JPEG
// at quality 92 (DeepFashion's size), and a 750×1101 palette label PNG with 20 classes. Bounds
// measured in the same run: two-thread throughput is compared with twice the one-thread
// figure, and resize time with decode time of the same photo.
import BenchmarkSupport
import Dispatch
import Foundation
import ImageIO

let width = 750, height = 1101
let secondsPerMeasurement = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 2.0

/// A photo-like texture: smooth shading, hard-edged shapes and mild noise, so the JPEG has
/// realistic entropy (a flat image would make decoding look far cheaper than it is).
func syntheticPhoto() -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    var noise: UInt32 = 12345
    for y in 0..<height {
        for x in 0..<width {
            let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
            let inFigure = pow((fx - 0.5) / 0.25, 2) + pow((fy - 0.45) / 0.4, 2) < 1
            let stripes = sin(Double(x) * 0.21 + Double(y) * 0.05) * 40
            noise = noise &* 1_103_515_245 &+ 12345
            let grain = Double(noise >> 24 & 0x1F) - 16
            let base: (Double, Double, Double) =
                inFigure ? (150 + stripes, 90 + stripes * 0.5, 70) : (220 - 80 * fy, 215 - 60 * fy, 205)
            let i = (y * width + x) * 3
            pixels[i] = UInt8(clamping: Int(base.0 + grain))
            pixels[i + 1] = UInt8(clamping: Int(base.1 + grain))
            pixels[i + 2] = UInt8(clamping: Int(base.2 + grain))
        }
    }
    return Image(width: width, height: height, pixels: pixels)
}

/// A parser-like label map: background plus nested blobs for 19 body-part classes.
func syntheticLabels() -> LabelMap {
    var values = [UInt8](repeating: 0, count: width * height)
    for y in 0..<height {
        for x in 0..<width {
            let fx = Double(x) / Double(width) - 0.5, fy = Double(y) / Double(height) - 0.5
            let r = (fx * fx / 0.06 + fy * fy / 0.2).squareRoot()
            if r < 1 {
                let angle = atan2(fy, fx)
                values[y * width + x] = UInt8(1 + (Int((angle + .pi) * 3) + Int(r * 6)) % 19)
            }
        }
    }
    return LabelMap(width: width, height: height, values: values)
}

let lipPalette: [(UInt8, UInt8, UInt8)] = (0..<20).map { (i: Int) -> (UInt8, UInt8, UInt8) in
    (UInt8(truncatingIfNeeded: i * 37), UInt8(truncatingIfNeeded: i * 91), UInt8(truncatingIfNeeded: i * 53))
}

struct Measurement {
    var perSecond: Double
    var seconds: Double
    var count: Int
    /// Operations per second of CPU time actually received: on a machine shared with other
    /// jobs the wall-clock rate drops, this one much less.
    var perCPUSecond: Double
}

/// Runs `body` on `threads` threads for about `secondsPerMeasurement`, returns operations/s.
func measure(threads: Int, _ body: @escaping @Sendable (Int) -> Void) -> Measurement {
    // Warm-up: page in code and buffers.
    for _ in 0..<3 { body(0) }
    var iterations = 4
    while true {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = processCPUSeconds()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for _ in 0..<iterations { body(thread) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpuSeconds = processCPUSeconds() - cpuStart
        if seconds >= secondsPerMeasurement || iterations > 1 << 20 {
            let count = iterations * threads
            return Measurement(
                perSecond: Double(count) / seconds, seconds: seconds, count: count,
                perCPUSecond: Double(count) / max(cpuSeconds, 1e-9))
        }
        iterations = max(iterations * 2, Int(Double(iterations) * secondsPerMeasurement / max(seconds, 1e-3) * 1.1))
    }
}

func report(_ name: String, _ one: Measurement, _ two: Measurement, inputBytes: Int, pixelBytes: Int) {
    func line(_ label: String, _ m: Measurement) -> String {
        String(
            format: "  %-9@ %8.1f images/s  %7.1f MB/s in  %7.1f MB/s out  (%d in %.2f s; %.1f images per CPU-second)",
            label as NSString, m.perSecond, m.perSecond * Double(inputBytes) / 1e6,
            m.perSecond * Double(pixelBytes) / 1e6, m.count, m.seconds, m.perCPUSecond)
    }
    print(name)
    print(line("1 thread", one))
    print(line("2 threads", two))
    print(
        String(format: "  scaling   %.2f× of the ideal 2.00× (two threads ÷ one thread)", two.perSecond / one.perSecond)
    )
}

let photo = syntheticPhoto()
let labels = syntheticLabels()
let jpeg = try photo.encodedJPEG(quality: 92)
let png = try labels.encodedPNG(palette: lipPalette, compressionLevel: 6)
let photoBack = try jpeg.withUnsafeBytes { try Image(decoding: $0, source: "bench.jpg") }
let pngBack = try png.withUnsafeBytes { try LabelMap(decoding: $0, source: "bench.png") }
precondition(pngBack == labels, "palette PNG round trip failed")
print(
    "bench-imageio: \(width)×\(height) inputs; JPEG q92 \(jpeg.count) bytes, palette PNG \(png.count) bytes; "
        + "\(ProcessInfo.processInfo.activeProcessorCount) cores; \(secondsPerMeasurement) s per measurement")
var totalError = 0
for i in 0..<photo.pixels.count { totalError += abs(Int(photo.pixels[i]) - Int(photoBack.pixels[i])) }
print(String(format: "  JPEG round-trip mean abs error %.2f", Double(totalError) / Double(photo.pixels.count)))

// One reusable output buffer per thread, as a batch reader would hold per slot.
final class Slots: @unchecked Sendable {
    var buffers: [UnsafeMutableBufferPointer<UInt8>]
    init(count: Int, size: Int) { buffers = (0..<count).map { _ in .allocate(capacity: size) } }
}
let photoSlots = Slots(count: 2, size: width * height * 3)
let labelSlots = Slots(count: 2, size: width * height)
let jpegData = jpeg, pngData = png

let decodeJPEG: @Sendable (Int) -> Void = { thread in
    jpegData.withUnsafeBytes {
        try! Image.decode($0, source: "bench.jpg", into: photoSlots.buffers[thread], width: width, height: height)
    }
}
let decodePNG: @Sendable (Int) -> Void = { thread in
    pngData.withUnsafeBytes {
        try! LabelMap.decode($0, source: "bench.png", into: labelSlots.buffers[thread], width: width, height: height)
    }
}
let jpegOne = measure(threads: 1, decodeJPEG), jpegTwo = measure(threads: 2, decodeJPEG)
report(
    "JPEG photo decode (into a reused buffer)", jpegOne, jpegTwo, inputBytes: jpeg.count, pixelBytes: width * height * 3
)
let pngOne = measure(threads: 1, decodePNG), pngTwo = measure(threads: 2, decodePNG)
report(
    "palette PNG label decode (indices, into a reused buffer)", pngOne, pngTwo, inputBytes: png.count,
    pixelBytes: width * height)

let probeOne = measure(threads: 1) { _ in
    _ = jpegData.withUnsafeBytes { try! ImageInfo(probing: $0, source: "bench.jpg") }
}
print(
    String(
        format: "JPEG header probe: %.0f files/s (%.1f µs each; the size check before any allocation)",
        probeOne.perSecond, 1e6 / probeOne.perSecond))

let source = photoBack
let resizeBicubic = measure(threads: 1) { _ in _ = source.resized(width: 256, height: 256) }
let resizeBicubicTwo = measure(threads: 2) { _ in _ = source.resized(width: 256, height: 256) }
final class Resizers: @unchecked Sendable {
    let resizers = (0..<2).map { _ in PhotoResizer(fromWidth: width, fromHeight: height, toWidth: 256, toHeight: 256) }
    let outputs = (0..<2).map { _ in UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256 * 256 * 3) }
}
let reusable = Resizers()
let resizeReusedOne = measure(threads: 1) { thread in
    reusable.resizers[thread].resize(source, into: reusable.outputs[thread])
}
let resizeReusedTwo = measure(threads: 2) { thread in
    reusable.resizers[thread].resize(source, into: reusable.outputs[thread])
}
// The pipeline's path for a kept photo: decoded 16 rows at a time, each band resized at once.
let onePassOne = measure(threads: 1) { thread in
    _ = jpegData.withUnsafeBytes { try! reusable.resizers[thread].resize(decoding: $0, source: "bench.jpg") }
}
let onePassTwo = measure(threads: 2) { thread in
    _ = jpegData.withUnsafeBytes { try! reusable.resizers[thread].resize(decoding: $0, source: "bench.jpg") }
}
let resizeBilinear = measure(threads: 1) { _ in _ = source.resized(width: 256, height: 256, filter: .bilinear) }
let labelSource = labels
let resizeNearest = measure(threads: 1) { _ in _ = labelSource.resized(width: 256, height: 256) }
print("resize 750×1101 → 256×256")
print(
    String(
        format: "  bicubic photo   %7.1f images/s (1 thread), %7.1f (2 threads); %.2f ms each = %.0f%% of one JPEG "
            + "decode (CPU time: %.2f ms, %.0f%%)",
        resizeBicubic.perSecond, resizeBicubicTwo.perSecond, 1e3 / resizeBicubic.perSecond,
        100 * jpegOne.perSecond / resizeBicubic.perSecond, 1e3 / resizeBicubic.perCPUSecond,
        100 * jpegOne.perCPUSecond / resizeBicubic.perCPUSecond))
print(
    String(
        format: "  bicubic, reused PhotoResizer and output: %7.1f images/s (1 thread), %7.1f (2 threads); %.2f ms each",
        resizeReusedOne.perSecond, resizeReusedTwo.perSecond, 1e3 / resizeReusedOne.perSecond))
print(
    String(
        format: "  JPEG decoded and resized in one pass: %7.1f images/s (1 thread), %7.1f (2 threads); %.2f ms each, "
            + "against %.2f ms for the decode alone and %.2f for the two one after the other",
        onePassOne.perSecond, onePassTwo.perSecond, 1e3 / onePassOne.perSecond, 1e3 / jpegOne.perSecond,
        1e3 / jpegOne.perSecond + 1e3 / resizeReusedOne.perSecond))
print(
    String(
        format: "  bilinear photo  %7.1f images/s (1 thread); %.2f ms each (CPU time %.2f ms)",
        resizeBilinear.perSecond,
        1e3 / resizeBilinear.perSecond, 1e3 / resizeBilinear.perCPUSecond))
print(
    String(
        format: "  nearest labels  %7.1f maps/s (1 thread); %.3f ms each (CPU time %.3f ms)", resizeNearest.perSecond,
        1e3 / resizeNearest.perSecond, 1e3 / resizeNearest.perCPUSecond))
let pipelineOne =
    1 / (1 / jpegOne.perSecond + 1 / pngOne.perSecond + 1 / resizeBicubic.perSecond + 1 / resizeNearest.perSecond)
let pipelineCPU =
    1
    / (1 / jpegOne.perCPUSecond + 1 / pngOne.perCPUSecond + 1 / resizeBicubic.perCPUSecond + 1
        / resizeNearest.perCPUSecond)
print(
    String(
        format: "decode + resize of one photo/label pair, 1 thread: %.1f pairs/s wall, %.1f pairs per CPU-second "
            + "(work no byte-exact pipeline can skip; bench-pipeline's bound is the decoding alone)", pipelineOne,
        pipelineCPU))
