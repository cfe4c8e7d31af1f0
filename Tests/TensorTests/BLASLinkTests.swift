import XCTest
import CBLAS

final class BLASLinkTests: XCTestCase {
    /// Proves OpenBLAS really links and computes: a 2×2 product with known answer.
    func testSgemmLinksAndComputes() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        XCTAssertEqual(c, [19, 22, 43, 50])
    }
}
