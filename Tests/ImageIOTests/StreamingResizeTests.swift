import XCTest
@testable import ImageIO

/// `PhotoResizer.resize(decoding:)`, which decodes a JPEG 16 rows at a time and resizes each band
/// at once, against decoding the whole photo and then resizing it: the same bytes and the same
/// errors, on both kernels.
final class StreamingResizeTests: XCTestCase {
    /// A JPEG of textured noise: hard edges make bicubic overshoot and clamp.
    private func jpeg(width: Int, height: Int, quality: Int = 90) throws -> [UInt8] {
        var state: UInt64 = UInt64(width * 7919 + height)
        var pixels = patternImage(width: width, height: height).pixels
        for index in pixels.indices where index % 7 == 0 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            pixels[index] = UInt8(truncatingIfNeeded: state >> 56) > 128 ? 255 : 0
        }
        return try Image(width: width, height: height, pixels: pixels).encodedJPEG(quality: quality)
    }

    private func decodeWhole(_ bytes: [UInt8]) throws -> Image {
        try bytes.withUnsafeBytes { try Image(decoding: $0, source: "test.jpg") }
    }

    private func assertStreamingMatches(
        _ bytes: [UInt8], to width: Int, _ height: Int, filter: ResizeFilter = .bicubic, expectStreaming: Bool? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let whole = try decodeWhole(bytes)
        for kernels in [ResizeKernels.automatic, .portable] {
            let resizer = PhotoResizer(
                fromWidth: whole.width, fromHeight: whole.height, toWidth: width, toHeight: height,
                filter: filter, kernels: kernels)
            if let expectStreaming { XCTAssertEqual(resizer.streamsRows, expectStreaming, file: file, line: line) }
            let streamed = try bytes.withUnsafeBytes { try resizer.resize(decoding: $0, source: "test.jpg") }
            let expected = resizer.resize(whole)
            XCTAssertEqual(streamed.width, width, file: file, line: line)
            XCTAssertEqual(streamed.height, height, file: file, line: line)
            XCTAssertTrue(
                streamed.pixels == expected.pixels,
                "\(whole.width)×\(whole.height) → \(width)×\(height) \(filter) \(kernels): streamed bytes differ",
                file: file, line: line)
        }
    }

    func testDeepFashionSizeStreamsTheSameBytes() throws {
        let bytes = try jpeg(width: 750, height: 1101)
        try assertStreamingMatches(bytes, to: 256, 256, expectStreaming: true)
        try assertStreamingMatches(bytes, to: 176, 256, filter: .bilinear, expectStreaming: true)
    }

    /// Heights that are not a multiple of the 16-row step, enlarging (taps reach rows decoded
    /// later), bilinear enlarging (at most four taps: the one-group AVX2 loop), and shapes that
    /// do not stream (one axis unchanged, Pillow's vertical-first order, nearest neighbour) and
    /// so decode whole.
    func testAwkwardShapesGiveTheSameBytes() throws {
        let cases: [(Int, Int, Int, Int, Bool)] = [
            (75, 110, 26, 26, true), (33, 17, 64, 40, true), (40, 300, 31, 7, false), (301, 203, 256, 256, true),
            (16, 16, 3, 5, true), (90, 61, 90, 20, false), (90, 61, 30, 61, false), (50, 500, 45, 60, false),
            (300, 40, 7, 31, true)
        ]
        for (w, h, toWidth, toHeight, streams) in cases {
            try assertStreamingMatches(try jpeg(width: w, height: h), to: toWidth, toHeight, expectStreaming: streams)
        }
        try assertStreamingMatches(
            try jpeg(width: 75, height: 110), to: 26, 26, filter: .nearest, expectStreaming: false)
        try assertStreamingMatches(
            try jpeg(width: 60, height: 45), to: 150, 100, filter: .bilinear, expectStreaming: true)
        try assertStreamingMatches(
            try jpeg(width: 97, height: 130), to: 64, 70, filter: .bilinear, expectStreaming: true)
    }

    func testGrayscaleCMYKAndPNGInputsGiveTheSameBytes() throws {
        let gray = [UInt8](repeating: 0, count: 97 * 130).indices.map { UInt8(truncatingIfNeeded: $0 * 31 % 251) }
        let grayJPEG = try gray.withUnsafeBufferPointer {
            try JPEGCodec.encode(
                $0, width: 97, height: 130, components: 1, quality: 90, progressive: false, source: "gray")
        }
        try assertStreamingMatches(grayJPEG, to: 40, 50)
        let cmyk = [UInt8](repeating: 0, count: 97 * 130 * 4).indices.map { UInt8(truncatingIfNeeded: $0 * 13 % 253) }
        let cmykJPEG = try cmyk.withUnsafeBufferPointer {
            try JPEGCodec.encode(
                $0, width: 97, height: 130, components: 4, quality: 90, progressive: false, source: "cmyk")
        }
        try assertStreamingMatches(cmykJPEG, to: 40, 50)
        let progressive = try patternImage(width: 120, height: 90).pixels.withUnsafeBufferPointer {
            try JPEGCodec.encode($0, width: 120, height: 90, components: 3, quality: 80, progressive: true, source: "p")
        }
        try assertStreamingMatches(progressive, to: 50, 40)
        try assertStreamingMatches(try patternImage(width: 120, height: 90).encodedPNG(), to: 50, 40)
    }

    /// A truncated JPEG throws as the whole-photo decoder does (libjpeg would pad it with grey),
    /// and the resizer stays usable for the next photo.
    func testTruncatedAndMismatchedPhotosThrowAndTheResizerRecovers() throws {
        let bytes = try jpeg(width: 200, height: 300)
        let resizer = PhotoResizer(fromWidth: 200, fromHeight: 300, toWidth: 64, toHeight: 64)
        let truncated = Array(bytes.prefix(bytes.count / 2))
        XCTAssertThrowsError(try decodeWhole(truncated))
        XCTAssertThrowsError(try truncated.withUnsafeBytes { try resizer.resize(decoding: $0, source: "cut.jpg") }) {
            error in
            guard let error = error as? ImageIOError, case .corrupt(let message) = error.reason else {
                return XCTFail("expected .corrupt, got \(error)")
            }
            XCTAssertEqual(error.source, "cut.jpg")
            XCTAssertTrue(message.contains("truncated"), message)
        }
        let other = try jpeg(width: 201, height: 300)
        XCTAssertThrowsError(try other.withUnsafeBytes { try resizer.resize(decoding: $0, source: "wide.jpg") }) {
            error in
            XCTAssertEqual(
                (error as? ImageIOError)?.reason,
                .sizeMismatch(expectedWidth: 200, expectedHeight: 300, width: 201, height: 300))
        }
        XCTAssertThrowsError(
            try [UInt8]([0xFF, 0xD8, 0xFF, 0xDB, 0, 3, 1]).withUnsafeBytes {
                try resizer.resize(decoding: $0, source: "junk.jpg")
            }
        ) { error in
            XCTAssertEqual((error as? ImageIOError)?.source, "junk.jpg", "\(error)")
        }
        let good = try bytes.withUnsafeBytes { try resizer.resize(decoding: $0, source: "good.jpg") }
        XCTAssertEqual(good.pixels, resizer.resize(try decodeWhole(bytes)).pixels)
    }
}
