import Applications
import CLibGIF
import Foundation
import ImageIO
import Tensor
import XCTest
import _TestSupport

final class AnimatedGIFTests: TemporaryFolderTestCase {
    /// What giflib's DGifSlurp reads back from a GIF file.
    struct Decoded {
        var width = 0, height = 0, delays: [Int] = [], loopCount: Int?
        var frames: [Image] = []
    }

    func decode(_ file: URL) throws -> Decoded {
        var error: Int32 = 0
        guard let gif = DGifOpenFileName(file.path, &error) else {
            throw XCTSkip("giflib cannot open \(file.path): \(String(cString: GifErrorString(error)))")
        }
        defer { DGifCloseFile(gif, &error) }
        XCTAssertEqual(DGifSlurp(gif), GIF_OK, String(cString: GifErrorString(gif.pointee.Error)))
        var decoded = Decoded(width: Int(gif.pointee.SWidth), height: Int(gif.pointee.SHeight))
        let palette = try XCTUnwrap(gif.pointee.SColorMap?.pointee.Colors)
        for index in 0..<Int(gif.pointee.ImageCount) {
            let saved = gif.pointee.SavedImages[index]
            XCTAssertEqual([Int(saved.ImageDesc.Width), Int(saved.ImageDesc.Height)], [decoded.width, decoded.height])
            var pixels: [UInt8] = []
            for pixel in 0..<decoded.width * decoded.height {
                let colour = palette[Int(saved.RasterBits[pixel])]
                pixels += [colour.Red, colour.Green, colour.Blue]
            }
            decoded.frames.append(Image(width: decoded.width, height: decoded.height, pixels: pixels))
            var control = GraphicsControlBlock()
            XCTAssertEqual(DGifSavedExtensionToGCB(gif, Int32(index), &control), GIF_OK)
            decoded.delays.append(Int(control.DelayTime))
            if index == 0 { decoded.loopCount = loopCount(saved) }
        }
        return decoded
    }

    /// The NETSCAPE2.0 loop count among the extension blocks before a frame.
    private func loopCount(_ saved: SavedImage) -> Int? {
        let blocks = UnsafeBufferPointer(start: saved.ExtensionBlocks, count: Int(saved.ExtensionBlockCount))
        for (number, block) in blocks.enumerated() where block.Function == APPLICATION_EXT_FUNC_CODE {
            let name = String(
                decoding: UnsafeBufferPointer(start: block.Bytes, count: Int(block.ByteCount)), as: UTF8.self)
            guard name == "NETSCAPE2.0", number + 1 < blocks.count, blocks[number + 1].ByteCount == 3 else { continue }
            let bytes = blocks[number + 1].Bytes!
            return Int(bytes[1]) | Int(bytes[2]) << 8
        }
        return nil
    }

    /// A smooth, many-coloured frame that moves with `phase`.
    func gradient(phase: Int, width: Int = 48, height: Int = 32) -> Image {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let red: Int = (x * 5 + phase * 9) % 256, green: Int = (y * 7 + phase * 3) % 256
                let blue: Int = (x + y) * 3 % 256
                pixels += [UInt8(red), UInt8(green), UInt8(blue)]
            }
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    func testAFewColoursRoundTripExactlyThroughGiflib() throws {
        let frames = (0..<3).map { (phase: Int) -> Image in
            var pixels: [UInt8] = []
            for pixel in 0..<15 { pixels += [UInt8(pixel * 16 + phase), UInt8(phase * 40), 7] }
            return Image(width: 5, height: 3, pixels: pixels)
        }
        let file = folder.appendingPathComponent("few.gif")
        try Data(AnimatedGIF.encoded(frames, delayCentiseconds: 7, loopCount: 0)).write(to: file)
        let decoded = try decode(file)
        XCTAssertEqual([decoded.width, decoded.height], [5, 3])
        XCTAssertEqual(decoded.delays, [7, 7, 7])
        XCTAssertEqual(decoded.loopCount, 0)
        XCTAssertEqual(decoded.frames, frames, "45 colours fit the palette: every pixel is exact")
    }

    func testManyColoursRoundTripCloseToTheSource() throws {
        let frames = (0..<4).map { gradient(phase: $0) }
        let file = folder.appendingPathComponent("many.gif")
        try Data(AnimatedGIF.encoded(frames, delayCentiseconds: 12, loopCount: 3)).write(to: file)
        let decoded = try decode(file)
        XCTAssertEqual(decoded.frames.count, 4)
        XCTAssertEqual([decoded.width, decoded.height], [48, 32])
        XCTAssertEqual(decoded.delays, [12, 12, 12, 12])
        XCTAssertEqual(decoded.loopCount, 3)
        // These frames spread over the whole RGB cube; a uniform 6 × 6 × 6 grid (216 colours,
        // levels 51 apart) would be off by about 12.75 per channel on average there.
        for (source, back) in zip(frames, decoded.frames) {
            let errors = zip(source.pixels, back.pixels).map { abs(Int($0) - Int($1)) }
            let uniformGrid = source.pixels.map { abs(Int($0) - Int((Double($0) / 51).rounded()) * 51) }
            let mean = Double(errors.reduce(0, +)) / Double(errors.count)
            XCTAssertLessThan(mean, 6, "mean error per channel")
            XCTAssertLessThan(mean, 0.6 * Double(uniformGrid.reduce(0, +)) / Double(errors.count))
            XCTAssertLessThan(errors.max()!, 48)
        }
    }

    func testMedianCutFollowsTheColoursThatAreThere() throws {
        // 8000 possible colours in a small corner of RGB (skin tones): a uniform 256-colour cube
        // would have steps of 32 or more there; median cut spends its boxes where the pixels are.
        var random = RandomSource(seed: 5)
        var pixels: [UInt8] = []
        for _ in 0..<64 * 64 {
            let red: UInt64 = 100 + random.next() % 40, green: UInt64 = 60 + random.next() % 20
            let blue: UInt64 = 40 + random.next() % 10
            pixels += [UInt8(red), UInt8(green), UInt8(blue)]
        }
        let image = Image(width: 64, height: 64, pixels: pixels)
        let palette = MedianCutPalette(images: [image])
        XCTAssertEqual(palette.count, 256)
        let indices = palette.indices(of: image)
        var total = 0, worst = 0
        for pixel in 0..<image.pixelCount {
            for channel in 0..<3 {
                let error = abs(Int(pixels[pixel * 3 + channel]) - Int(palette.rgb[Int(indices[pixel]) * 3 + channel]))
                total += error
                worst = max(worst, error)
            }
        }
        XCTAssertLessThan(Double(total) / Double(pixels.count), 2.0)
        XCTAssertLessThan(worst, 10)
        XCTAssertEqual(MedianCutPalette(images: [image], maximumColours: 1).count, 1)
        XCTAssertEqual(
            MedianCutPalette(images: [Image(width: 2, height: 1, pixels: [1, 2, 3, 1, 2, 3])]).rgb, [1, 2, 3])
    }

    func testBadFramesAreRefused() throws {
        XCTAssertThrowsError(try AnimatedGIF.encoded([])) { error in
            XCTAssertEqual("\(error)", "frames: an animation needs at least one frame")
        }
        XCTAssertThrowsError(try AnimatedGIF.encoded([gradient(phase: 0), gradient(phase: 0, width: 8)])) { error in
            XCTAssertEqual("\(error)", "frames: frames of different sizes")
        }
        XCTAssertThrowsError(try AnimatedGIF.encoded([gradient(phase: 0)], delayCentiseconds: 70000))
    }
}
