import Records
import XCTest

final class CRC32CTests: XCTestCase {
    func testCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        Array("123456789".utf8).withUnsafeBytes { XCTAssertEqual(CRC32C.softwareChecksum($0), 0xE306_9283) }
    }
}
