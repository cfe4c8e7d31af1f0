import XCTest
import ImageIO

/// Resampling against values computed once with Python PIL 13.0 (`Image.resize`) on
/// `patternImage`; the photo pipeline must match the reference, which resizes with PIL.
final class ResizeTests: XCTestCase {
    func testShrinkMatchesPIL() {
        let source = patternImage(width: 23, height: 17)
        XCTAssertEqual(
            source.resized(width: 7, height: 5, filter: .bicubic).pixels,
            [
                22, 112, 197, 102, 153, 127, 145, 114, 121, 148, 143, 118, 144, 143, 145, 128, 126, 118, 127, 124, 133,
                71, 158, 160, 148, 112, 103, 113, 106, 152, 123, 133, 111, 118, 146, 133, 126, 142, 126, 134, 131, 118,
                118, 164, 100, 172, 104, 110, 108, 121, 139, 142, 117, 128, 125, 141, 104, 115, 134, 137, 122, 144, 119,
                151, 151, 108, 154, 99, 137, 105, 139, 139, 114, 138, 130, 115, 140, 125, 139, 107, 127, 112, 132, 139,
                152, 106, 89, 138, 101, 147, 112, 130, 124, 110, 133, 139, 138, 138, 137, 133, 136, 138, 110, 128, 146
            ])
        XCTAssertEqual(
            source.resized(width: 7, height: 5, filter: .bilinear).pixels,
            [
                32, 117, 188, 103, 148, 129, 140, 116, 125, 146, 144, 117, 142, 142, 141, 129, 126, 123, 126, 128, 131,
                76, 151, 157, 142, 115, 110, 116, 110, 145, 124, 130, 116, 121, 145, 130, 124, 141, 127, 133, 132, 119,
                119, 159, 104, 163, 108, 112, 112, 120, 137, 136, 119, 128, 128, 140, 109, 117, 133, 134, 122, 144, 121,
                149, 148, 108, 151, 103, 135, 109, 137, 136, 116, 135, 133, 119, 137, 125, 132, 115, 130, 116, 130, 135,
                150, 107, 95, 137, 105, 142, 115, 129, 127, 110, 134, 137, 136, 136, 138, 134, 137, 137, 114, 127, 142
            ])
        XCTAssertEqual(
            source.resized(width: 7, height: 5, filter: .nearest).pixels,
            [
                15, 100, 185, 75, 160, 245, 239, 68, 153, 169, 254, 83, 153, 238, 67, 45, 130, 215, 155, 240, 69, 63,
                148, 233, 183, 12, 97, 16, 101, 186, 6, 91, 176, 151, 236, 65, 123, 208, 37, 138, 223, 52, 99, 184, 13,
                109, 194, 23, 2, 87, 172, 37, 122, 207, 227, 56, 141, 104, 189, 18, 164, 249, 78, 135, 220, 49, 190, 19,
                104, 143, 228, 57, 68, 153, 238, 47, 132, 217, 85, 170, 255, 190, 19, 104, 183, 12, 97, 42, 127, 212,
                176, 5, 90, 6, 91, 176, 45, 130, 215, 163, 248, 77, 173, 2, 87
            ])
    }

    func testEnlargeMatchesPIL() {
        let source = patternImage(width: 5, height: 4)
        XCTAssertEqual(
            source.resized(width: 11, height: 9, filter: .bicubic).pixels,
            [
                0, 84, 169, 0, 84, 169, 0, 85, 170, 3, 88, 173, 6, 91, 176, 10, 95, 180, 16, 101, 186, 23, 108, 193, 34,
                119, 204, 44, 129, 214, 47, 132, 217, 1, 86, 171, 1, 86, 171, 2, 87, 172, 5, 90, 175, 9, 94, 179, 14,
                99, 184, 20, 105, 190, 27, 112, 197, 38, 123, 209, 49, 134, 221, 53, 138, 226, 3, 88, 173, 4, 89, 174,
                6, 91, 176, 10, 95, 180, 15, 100, 185, 21, 106, 191, 28, 113, 197, 37, 122, 206, 49, 134, 225, 60, 145,
                246, 65, 150, 254, 6, 91, 176, 8, 93, 178, 12, 97, 182, 17, 102, 187, 23, 108, 193, 30, 115, 200, 38,
                123, 209, 48, 133, 219, 61, 146, 229, 73, 158, 236, 79, 164, 240, 10, 95, 180, 12, 97, 182, 16, 101,
                186, 22, 107, 192, 30, 115, 198, 38, 123, 208, 47, 132, 232, 58, 143, 248, 72, 157, 207, 85, 170, 146,
                91, 176, 122, 13, 98, 183, 15, 100, 185, 20, 105, 190, 27, 112, 197, 36, 121, 206, 45, 130, 215, 56,
                141, 243, 67, 152, 253, 83, 168, 168, 97, 182, 52, 103, 188, 7, 16, 101, 186, 19, 104, 189, 26, 111,
                196, 34, 119, 204, 44, 129, 221, 54, 139, 224, 66, 151, 201, 78, 163, 161, 95, 180, 96, 110, 195, 28,
                117, 202, 1, 18, 103, 188, 22, 107, 192, 30, 115, 200, 40, 125, 211, 50, 135, 236, 61, 146, 231, 74,
                159, 145, 88, 173, 45, 106, 191, 21, 122, 207, 35, 129, 214, 38, 20, 105, 190, 24, 109, 194, 32, 117,
                202, 42, 127, 213, 52, 137, 242, 65, 150, 235, 78, 163, 122, 92, 177, 0, 110, 195, 0, 128, 213, 35, 135,
                220, 50
            ])
        XCTAssertEqual(
            source.resized(width: 11, height: 9, filter: .bilinear).pixels,
            [
                0, 85, 170, 1, 86, 171, 2, 87, 172, 4, 89, 174, 8, 93, 178, 12, 97, 182, 19, 104, 189, 26, 111, 196, 35,
                120, 205, 44, 129, 214, 48, 133, 218, 1, 86, 171, 2, 87, 172, 4, 89, 174, 6, 91, 176, 11, 96, 181, 15,
                100, 185, 22, 107, 192, 30, 115, 200, 39, 124, 209, 48, 133, 218, 53, 138, 223, 4, 89, 174, 5, 90, 175,
                8, 93, 178, 11, 96, 181, 17, 102, 187, 22, 107, 192, 31, 116, 201, 39, 124, 209, 49, 134, 219, 60, 145,
                230, 65, 150, 235, 7, 92, 177, 8, 93, 178, 13, 98, 183, 17, 102, 187, 24, 109, 194, 30, 115, 200, 39,
                124, 209, 48, 133, 218, 59, 144, 224, 71, 156, 230, 77, 162, 232, 11, 96, 181, 12, 97, 182, 17, 102,
                187, 23, 108, 193, 30, 115, 200, 38, 123, 208, 48, 133, 218, 58, 143, 228, 70, 155, 194, 83, 168, 149,
                89, 174, 131, 14, 99, 184, 16, 101, 186, 21, 106, 191, 28, 113, 198, 36, 121, 206, 45, 130, 215, 56,
                141, 226, 68, 153, 238, 81, 166, 163, 95, 180, 67, 100, 185, 29, 17, 102, 187, 19, 104, 189, 26, 111,
                196, 34, 119, 204, 43, 128, 213, 53, 138, 223, 65, 150, 189, 77, 162, 157, 91, 176, 105, 106, 191, 49,
                112, 197, 26, 20, 105, 190, 23, 108, 193, 30, 115, 200, 39, 124, 209, 49, 134, 219, 60, 145, 230, 74,
                159, 146, 86, 171, 63, 102, 187, 43, 118, 203, 40, 124, 209, 38, 21, 106, 191, 24, 109, 194, 32, 117,
                202, 41, 126, 211, 52, 137, 222, 63, 148, 233, 77, 162, 130, 90, 175, 28, 106, 191, 20, 122, 207, 36,
                129, 214, 43
            ])
        XCTAssertEqual(
            source.resized(width: 11, height: 9, filter: .nearest).pixels,
            [
                0, 85, 170, 0, 85, 170, 3, 88, 173, 3, 88, 173, 12, 97, 182, 12, 97, 182, 12, 97, 182, 27, 112, 197, 27,
                112, 197, 48, 133, 218, 48, 133, 218, 0, 85, 170, 0, 85, 170, 3, 88, 173, 3, 88, 173, 12, 97, 182, 12,
                97, 182, 12, 97, 182, 27, 112, 197, 27, 112, 197, 48, 133, 218, 48, 133, 218, 7, 92, 177, 7, 92, 177,
                15, 100, 185, 15, 100, 185, 29, 114, 199, 29, 114, 199, 29, 114, 199, 49, 134, 219, 49, 134, 219, 75,
                160, 245, 75, 160, 245, 7, 92, 177, 7, 92, 177, 15, 100, 185, 15, 100, 185, 29, 114, 199, 29, 114, 199,
                29, 114, 199, 49, 134, 219, 49, 134, 219, 75, 160, 245, 75, 160, 245, 14, 99, 184, 14, 99, 184, 27, 112,
                197, 27, 112, 197, 46, 131, 216, 46, 131, 216, 46, 131, 216, 71, 156, 241, 71, 156, 241, 102, 187, 16,
                102, 187, 16, 14, 99, 184, 14, 99, 184, 27, 112, 197, 27, 112, 197, 46, 131, 216, 46, 131, 216, 46, 131,
                216, 71, 156, 241, 71, 156, 241, 102, 187, 16, 102, 187, 16, 14, 99, 184, 14, 99, 184, 27, 112, 197, 27,
                112, 197, 46, 131, 216, 46, 131, 216, 46, 131, 216, 71, 156, 241, 71, 156, 241, 102, 187, 16, 102, 187,
                16, 21, 106, 191, 21, 106, 191, 39, 124, 209, 39, 124, 209, 63, 148, 233, 63, 148, 233, 63, 148, 233,
                93, 178, 7, 93, 178, 7, 129, 214, 43, 129, 214, 43, 21, 106, 191, 21, 106, 191, 39, 124, 209, 39, 124,
                209, 63, 148, 233, 63, 148, 233, 63, 148, 233, 93, 178, 7, 93, 178, 7, 129, 214, 43, 129, 214, 43
            ])
    }

    /// The pipeline's own case: a 750×1101 DeepFashion-sized photo to 256×256.
    func testDeepFashionSizeMatchesPILHash() {
        let source = patternImage(width: 750, height: 1101)
        let bicubic = source.resized(width: 256, height: 256)
        XCTAssertEqual(fnv1a(bicubic.pixels), 0xa6b2_a5da_7b46_f3ae)
        XCTAssertEqual(Array(bicubic.pixels[((100 * 256 + 37) * 3)..<((100 * 256 + 37) * 3 + 3)]), [122, 139, 123])
        XCTAssertEqual(fnv1a(source.resized(width: 256, height: 256, filter: .bilinear).pixels), 0x7c91_f93d_57a0_ee38)
        XCTAssertEqual(fnv1a(source.resized(width: 256, height: 256, filter: .nearest).pixels), 0x6aa7_c721_8dd8_fcb4)
    }

    /// The reusable resizer (one per worker) gives the same bytes as `resized`, call after call.
    func testReusedResizerMatchesOneShotResize() {
        let source = patternImage(width: 75, height: 110)
        for filter in ResizeFilter.allCases {
            let resizer = PhotoResizer(fromWidth: 75, fromHeight: 110, toWidth: 26, toHeight: 26, filter: filter)
            let expected = source.resized(width: 26, height: 26, filter: filter)
            XCTAssertEqual(resizer.resize(source), expected, "\(filter)")
            XCTAssertEqual(resizer.resize(source), expected, "\(filter), second call")
            let widthOnly = PhotoResizer(fromWidth: 75, fromHeight: 110, toWidth: 30, toHeight: 110, filter: filter)
            XCTAssertEqual(
                widthOnly.resize(source), source.resized(width: 30, height: 110, filter: filter), "\(filter)")
        }
    }

    /// Pillow 13 resizes vertically first when the height loses more than twice as many pixels
    /// as the width; hashes from PIL 13.0 on `patternImage` (500×752 → 256×256 is vertical
    /// first, 100×150 → 50×50 is exactly on the boundary and stays horizontal first).
    func testPassOrderFollowsPillow13() {
        let tall = patternImage(width: 500, height: 752)
        XCTAssertTrue(PhotoResizer(fromWidth: 500, fromHeight: 752, toWidth: 256, toHeight: 256).verticalFirst)
        XCTAssertEqual(fnv1a(tall.resized(width: 256, height: 256).pixels), PILHashes.tall500x752to256)
        XCTAssertEqual(
            fnv1a(
                PhotoResizer(fromWidth: 500, fromHeight: 752, toWidth: 256, toHeight: 256, passOrder: .horizontalFirst)
                    .resize(tall).pixels), PILHashes.tall500x752to256HorizontalFirst)
        XCTAssertEqual(
            fnv1a(tall.resized(width: 256, height: 256, filter: .bilinear).pixels), PILHashes.tall500x752to256Bilinear)
        XCTAssertFalse(PhotoResizer(fromWidth: 100, fromHeight: 150, toWidth: 50, toHeight: 50).verticalFirst)
        XCTAssertEqual(
            fnv1a(patternImage(width: 100, height: 150).resized(width: 50, height: 50).pixels),
            PILHashes.boundary100x150to50)
        XCTAssertFalse(PhotoResizer(fromWidth: 750, fromHeight: 1101, toWidth: 256, toHeight: 256).verticalFirst)
    }

    func testLabelNearestMatchesPIL() {
        func labels(_ width: Int, _ height: Int) -> LabelMap {
            let photo = patternImage(width: width, height: height)
            return LabelMap(
                width: width, height: height,
                values: stride(from: 0, to: photo.pixels.count, by: 3).map { photo.pixels[$0] % 20 })
        }
        XCTAssertEqual(
            labels(13, 11).resized(width: 5, height: 4).values,
            [15, 9, 5, 19, 9, 11, 15, 0, 0, 0, 15, 19, 15, 4, 9, 11, 5, 10, 5, 0])
        XCTAssertEqual(fnv1a(labels(13, 11).resized(width: 29, height: 23).values), 0xe374_bc6c_290f_3bbd)
        XCTAssertEqual(fnv1a(labels(750, 1101).resized(width: 256, height: 256).values), 0xa905_62f4_dc0d_f67c)
    }

    /// Relabeling while resampling equals resampling, then looking every value up; at the same
    /// size it is the lookup alone, and an empty source gives the table's value for zero.
    func testLabelResizeWithATableEqualsResizeThenLookup() {
        let photo = patternImage(width: 750, height: 1101)
        let map = LabelMap(
            width: 750, height: 1101,
            values: stride(from: 0, to: photo.pixels.count, by: 3).map { photo.pixels[$0] % 20 })
        let table = (0..<256).map { UInt8((($0 * 7) + 3) % 256) }
        for (width, height) in [(256, 256), (750, 1101), (1000, 1200), (1, 1), (0, 5)] {
            let plain = map.resized(width: width, height: height)
            XCTAssertEqual(
                map.resized(width: width, height: height, relabeling: table).values,
                plain.values.map { table[Int($0)] },
                "\(width)×\(height)")
        }
        XCTAssertEqual(LabelMap(width: 0, height: 0).resized(width: 2, height: 1, relabeling: table).values, [3, 3])
    }

    func testLabelResizeNeverInventsClasses() {
        let map = LabelMap(width: 4, height: 4, values: [0, 0, 7, 7, 0, 0, 7, 7, 3, 3, 19, 19, 3, 3, 19, 19])
        let small = map.resized(width: 3, height: 3)
        XCTAssertTrue(Set(small.values).isSubset(of: [0, 3, 7, 19]))
        XCTAssertEqual(map.resized(width: 2, height: 2).values, [0, 7, 3, 19])
    }

    func testSameSizeIsIdentityAndEmptyIsEmpty() {
        let source = patternImage(width: 9, height: 6)
        for filter in ResizeFilter.allCases {
            XCTAssertEqual(source.resized(width: 9, height: 6, filter: filter), source)
            // One axis unchanged: the other pass alone must still be exact on that axis.
            XCTAssertEqual(source.resized(width: 9, height: 6 * 2, filter: filter).width, 9)
        }
        XCTAssertEqual(source.resized(width: 0, height: 5).pixelCount, 0)
    }

    func testConstantImageStaysConstant() {
        let flat = Image(width: 31, height: 17, pixels: [UInt8](repeating: 77, count: 31 * 17 * 3))
        for filter in ResizeFilter.allCases {
            XCTAssertEqual(Set(flat.resized(width: 8, height: 40, filter: filter).pixels), [77], "\(filter)")
        }
    }
}

/// FNV-1a hashes of PIL 13.0 results on `patternImage`.
enum PILHashes {
    static let tall500x752to256: UInt64 = 0x2f9b_e0ba_7e85_c4ff
    /// The same resize done horizontal-first (two PIL resizes), as Pillow 12 did it.
    static let tall500x752to256HorizontalFirst: UInt64 = 0x2336_f6a3_7009_afd8
    static let tall500x752to256Bilinear: UInt64 = 0xab29_caa9_eb41_a06b
    static let boundary100x150to50: UInt64 = 0x9055_dda1_8cb5_32e1
}
