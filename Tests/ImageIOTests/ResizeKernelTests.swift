import CResample
import XCTest
@testable import ImageIO

/// The AVX2 loops (`CResample`) against the portable Swift loops, which the PIL goldens in
/// `ResizeTests` pin down: the same bytes for every size, filter and pass order, on noise with
/// many 0s and 255s so overshoot clamps at both ends.
final class ResizeKernelTests: XCTestCase {
    private func noise(width: Int, height: Int, seed: UInt64) -> Image {
        var state = seed
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = UInt8(truncatingIfNeeded: state >> 56)
            return value < 40 ? 0 : value > 215 ? 255 : value  // hard edges make bicubic overshoot
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    private func assertKernelsAgree(
        _ source: Image, to width: Int, _ height: Int, filter: ResizeFilter, passOrder: ResizePassOrder = .pillow13,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let fast = PhotoResizer(
            fromWidth: source.width, fromHeight: source.height, toWidth: width, toHeight: height,
            filter: filter, passOrder: passOrder, kernels: .automatic)
        let portable = PhotoResizer(
            fromWidth: source.width, fromHeight: source.height, toWidth: width, toHeight: height,
            filter: filter, passOrder: passOrder, kernels: .portable)
        XCTAssertTrue(fast.usesAVX2, file: file, line: line)
        XCTAssertFalse(portable.usesAVX2, file: file, line: line)
        let expected = portable.resize(source).pixels, actual = fast.resize(source).pixels
        guard expected != actual else { return }
        let first = zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        XCTFail(
            """
            \(source.width)×\(source.height) → \(width)×\(height) \(filter) \(passOrder): byte \(first) \
            (pixel \(first / 3 % width), \(first / 3 / width)) is \(actual[first]), portable \(expected[first])
            """, file: file, line: line)
    }

    func testAVX2MatchesPortableOnDeepFashionSizes() throws {
        try XCTSkipUnless(ResizeKernels.avx2Available, "this CPU has no AVX2; only the portable loops run")
        let photo = noise(width: 750, height: 1101, seed: 1)
        for filter in [ResizeFilter.bicubic, .bilinear] {
            assertKernelsAgree(photo, to: 256, 256, filter: filter)
            assertKernelsAgree(photo, to: 176, 256, filter: filter)
            assertKernelsAgree(photo, to: 512, 752, filter: filter, passOrder: .horizontalFirst)
        }
    }

    func testAVX2MatchesPortableOnAwkwardSizes() throws {
        try XCTSkipUnless(ResizeKernels.avx2Available, "this CPU has no AVX2; only the portable loops run")
        // Widths of 1–3 pixels (loads run past the row), odd row lengths (the vertical loop's
        // scalar tail), enlarging (weights up to 1.0), one axis only, and vertical-first shapes.
        let cases: [(Int, Int, Int, Int)] = [
            (1, 1, 5, 3), (2, 7, 1, 3), (3, 3, 9, 9), (5, 4, 11, 9), (23, 17, 7, 5), (17, 23, 64, 3),
            (75, 110, 26, 26), (75, 110, 30, 110), (75, 110, 75, 40), (500, 752, 256, 256), (33, 200, 31, 7),
            (640, 480, 1280, 960), (1000, 10, 3, 10)
        ]
        for (index, (w, h, toWidth, toHeight)) in cases.enumerated() {
            let source = noise(width: w, height: h, seed: UInt64(index + 2))
            for filter in [ResizeFilter.bicubic, .bilinear] {
                assertKernelsAgree(source, to: toWidth, toHeight, filter: filter)
                assertKernelsAgree(source, to: toWidth, toHeight, filter: filter, passOrder: .horizontalFirst)
            }
        }
    }

    /// The cached-rows loop (`resample_horizontal_rgb8_avx2_cached`, pixels outer) called
    /// directly on buffers that end exactly at the last row, so the last rows go through its
    /// zero-padded copy, for one to four groups of taps and row counts on both sides of its
    /// 32-row block: the same bytes as the portable loop.
    func testCachedRowsLoopMatchesPortableUpToTheBuffersEnd() throws {
        try XCTSkipUnless(ResizeKernels.avx2Available, "this CPU has no AVX2; only the portable loops run")
        // (input width, output width, filter, whether the two-pixel loop runs): pixels that start
        // at most 3 pixels apart take it, with odd and even widths and 1 to 6 tap pairs.
        let shapes: [(Int, Int, ResizeFilter, Bool)] = [
            (40, 150, .bilinear, true), (90, 64, .bicubic, true), (750, 256, .bicubic, true),
            (750, 255, .bicubic, true),
            (751, 257, .bicubic, true), (640, 256, .bicubic, true), (7, 3, .bicubic, true), (3, 1, .bicubic, true),
            (100, 30, .bicubic, false), (301, 70, .bicubic, false), (64, 11, .bicubic, false)
        ]
        for (index, (inputWidth, outputWidth, filter, pairsPixels)) in shapes.enumerated() {
            let taps = Resampler.coefficients(inputSize: inputWidth, outputSize: outputWidth, filter: filter)
            let starts = taps.starts.map(Int32.init), counts = taps.counts.map(Int32.init)
            let plan = try XCTUnwrap(
                taps.weights.withUnsafeBufferPointer {
                    resample_horizontal_plan_create(starts, counts, $0.baseAddress, taps.kernelSize, outputWidth)
                })
            defer { resample_horizontal_plan_destroy(plan) }
            XCTAssertEqual(
                resample_horizontal_plan_pairs_pixels(plan) == 1, pairsPixels, "\(inputWidth) → \(outputWidth)")
            for rows in [1, 2, 3, 4, 5, 16, 33, 70] {
                let input = noise(width: inputWidth, height: rows, seed: UInt64(10 * index + rows)).pixels
                var fast = [UInt8](repeating: 0, count: rows * outputWidth * 3), portable = fast
                let status = input.withUnsafeBufferPointer { source in
                    fast.withUnsafeMutableBufferPointer {
                        resample_horizontal_rgb8_avx2_cached(
                            plan, source.baseAddress, inputWidth, source.count, rows, $0.baseAddress)
                    }
                }
                XCTAssertEqual(status, 0)
                input.withUnsafeBufferPointer { source in
                    portable.withUnsafeMutableBufferPointer {
                        Resampler.horizontalPass(
                            source.baseAddress!, inputWidth: inputWidth, rows: 0..<rows, coefficients: taps,
                            outputWidth: outputWidth, into: $0.baseAddress!)
                    }
                }
                XCTAssertTrue(fast == portable, "\(inputWidth) → \(outputWidth) \(filter), \(rows) rows")
            }
        }
    }
}
