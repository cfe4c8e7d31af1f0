@testable import Records
import XCTest

/// The JPEG size read from the frame header, which lets `--image jpeg` store photos unchanged
/// without decoding them.
final class JPEGFrameSizeTests: XCTestCase {
    private func jpeg(frameMarker: UInt8, width: Int, height: Int) -> [UInt8] {
        let app0: [UInt8] = [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF\u{0}".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0]
        let dht: [UInt8] = [0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00]  // C4 is not a frame header
        let sof: [UInt8] =
            [
                0xFF, frameMarker, 0x00, 0x11, 8, UInt8(height >> 8), UInt8(height & 0xFF),
                UInt8(width >> 8), UInt8(width & 0xFF), 3
            ] + [UInt8](repeating: 0, count: 9)
        return [0xFF, 0xD8] + app0 + dht + sof + [0xFF, 0xDA, 0x00, 0x02]
    }

    func testReadsBaselineAndProgressiveFrames() {
        for marker: UInt8 in [0xC0, 0xC2] {
            let bytes = jpeg(frameMarker: marker, width: 750, height: 1101)
            let size = bytes.withUnsafeBytes { JPEGFrameSize.read($0) }
            XCTAssertEqual(size?.width, 750)
            XCTAssertEqual(size?.height, 1101)
        }
    }

    func testRefusesDataWithoutAFrameHeader() {
        XCTAssertNil([0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02].withUnsafeBytes { JPEGFrameSize.read($0) })
        XCTAssertNil(
            Array(jpeg(frameMarker: 0xC0, width: 10, height: 10).prefix(30)).withUnsafeBytes { JPEGFrameSize.read($0) })
        XCTAssertNil([0x89, 0x50, 0x4E, 0x47, 0, 0].withUnsafeBytes { JPEGFrameSize.read($0) })
    }
}
