import XCTest
import ImageIO

final class ImageTypeTests: XCTestCase {
    func testLabelMapFillAndCount() {
        let map = LabelMap(width: 3, height: 2, filledWith: 7)
        XCTAssertEqual(map.pixelCount, 6)
        XCTAssertEqual(map.values, [7, 7, 7, 7, 7, 7])
    }
}
