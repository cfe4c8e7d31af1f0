import XCTest
import Foundation
import ImageIO
import _TestSupport
final class ZZScratch: XCTestCase {
    func testDump() throws {
        let im = try Image(contentsOfFile: TestPaths.shared.appendingPathComponent("data/real-parsing/cihp-gt/0032190.jpg").path)
        try Data(im.resized(width: 256, height: 256).pixels).write(to: URL(fileURLWithPath: "/tmp/scratch/ours.raw"))
        try Data(im.resized(width: 256, height: 752).pixels).write(to: URL(fileURLWithPath: "/tmp/scratch/oursH.raw"))
        try Data(im.resized(width: 500, height: 256).pixels).write(to: URL(fileURLWithPath: "/tmp/scratch/oursV.raw"))
    }
}
