import Foundation
import Dispatch
import XCTest
@testable import ImageIO

final class CMYKTests: XCTestCase {
    /// CMYK and YCCK JPEGs as Photoshop writes them (inverted samples, Adobe marker) decode to
    /// R = (255 − C)(255 − K) / 255 and likewise for G and B.
    func testCMYKAndYCCKConvertToRGB() throws {
        let width = 32, height = 16
        var cmyk = [UInt8](repeating: 0, count: width * height * 4)
        var expected = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let (c, m, y, k) = (i % 32 * 8, 128, i / 32 * 16, i % 7 * 20)
            let ink = [c, m, y]
            for ch in 0..<3 {
                cmyk[4 * i + ch] = UInt8(255 - ink[ch])  // stored inverted, as Adobe does
                expected[3 * i + ch] = UInt8(((255 - ink[ch]) * (255 - k) + 127) / 255)
            }
            cmyk[4 * i + 3] = UInt8(255 - k)
        }
        for ycck in [false, true] {
            let bytes = try cmyk.withUnsafeBufferPointer {
                try JPEGCodec.encode(
                    $0, width: width, height: height, components: 4, quality: 100, progressive: false,
                    ycck: ycck, source: "cmyk")
            }
            XCTAssertEqual(try probe(bytes).colorModel, ycck ? .ycck : .cmyk)
            let decoded = try decodeImage(bytes)
            let diff = difference(decoded.pixels, expected)
            XCTAssertLessThan(diff.mean, 2.5, "ycck \(ycck): mean \(diff.mean) max \(diff.max)")
        }
    }
}

/// Decoders keep no shared state: two threads decoding different files at once get exactly what
/// one thread gets.
final class ConcurrencyTests: XCTestCase {
    func testTwoThreadsDecodeIndependently() throws {
        let photo = patternImage(width: 120, height: 90)
        let files = [
            try photo.encodedJPEG(quality: 85), try photo.encodedPNG(), try photo.encodedTIFF(compression: .deflate)
        ]
        let broken = Array(files[0].prefix(files[0].count / 2))
        let expected = try files.map { try decodeImage($0) }
        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for round in 0..<40 {
                let index = (round + thread) % files.count
                if (try? decodeImage(files[index])) != expected[index] { mismatches.add() }
                // Errors raised meanwhile on the other thread must not leak into this one.
                if (try? decodeImage(broken)) != nil { mismatches.add() }
            }
        }
        XCTAssertEqual(mismatches.value, 0)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
