import ImageIO
import Tensor
import Training

/// A grid of generated images, one row per class, as the supplementary's Figure 5: in row r,
/// only class `rowClasses[r]`'s appearance code changes from column to column. Each row's
/// class name is written to its left in ``BitmapFont``'s capitals (dark on white).
public struct ContactSheet: Sendable {
    /// The whole sheet.
    public var image: Image
    /// The class of each row, top to bottom.
    public var rowClasses: [Int]
    public var columns: Int
    public var cellWidth: Int
    public var cellHeight: Int
    /// White pixels around and between cells.
    public var gap: Int
    /// The width of the column of class names, left of the first cell.
    public var captionWidth: Int

    /// Lays out `cells` (rows of images of one size; every row as long as the first) with
    /// `rowNames` on their left. `rowClasses` records which class each row shows.
    public init(cells: [[Image]], rowNames: [String], rowClasses: [Int], gap: Int = 4) throws {
        guard let first = cells.first?.first, cells.count == rowNames.count, cells.count == rowClasses.count else {
            throw ApplicationError.invalidArgument(
                "contact sheet",
                reason: "\(cells.count) rows for \(rowNames.count) names and \(rowClasses.count) classes")
        }
        guard cells.allSatisfy({ $0.count == cells[0].count }),
            cells.joined().allSatisfy({ $0.width == first.width && $0.height == first.height })
        else {
            throw ApplicationError.invalidArgument(
                "contact sheet", reason: "rows of different lengths or cells of different sizes")
        }
        (self.rowClasses, columns, cellWidth, cellHeight, self.gap) =
            (rowClasses, cells[0].count, first.width, first.height, gap)
        let scale = Self.fontScale(cellHeight: first.height)
        captionWidth = rowNames.map { BitmapFont.width(of: $0, scale: scale) }.max()! + 2 * gap
        let width = captionWidth + columns * (cellWidth + gap)
        let height = gap + cells.count * (cellHeight + gap)
        image = Image(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
        for (row, images) in cells.enumerated() {
            let textTop = cellOrigin(row: row, column: 0).y + (cellHeight - BitmapFont.glyphHeight * scale) / 2
            BitmapFont.draw(rowNames[row], into: &image, x: gap, y: textTop, scale: scale, colour: [32, 32, 32])
            for (column, cell) in images.enumerated() { paste(cell, at: cellOrigin(row: row, column: column)) }
        }
    }

    /// The top-left pixel of the cell in `row` and `column`.
    public func cellOrigin(row: Int, column: Int) -> (x: Int, y: Int) {
        (captionWidth + column * (cellWidth + gap), gap + row * (cellHeight + gap))
    }

    /// The cell in `row` and `column`, cut out of the sheet.
    public func cell(row: Int, column: Int) -> Image {
        let origin = cellOrigin(row: row, column: column)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(cellWidth * cellHeight * 3)
        for y in origin.y..<origin.y + cellHeight {
            let start = (y * image.width + origin.x) * 3
            pixels += image.pixels[start..<start + cellWidth * 3]
        }
        return Image(width: cellWidth, height: cellHeight, pixels: pixels)
    }

    /// Font pixels per screen pixel: names stay about a tenth of a cell high or less.
    static func fontScale(cellHeight: Int) -> Int { max(1, cellHeight / 96) }

    private mutating func paste(_ cell: Image, at origin: (x: Int, y: Int)) {
        for y in 0..<cell.height {
            let target = ((origin.y + y) * image.width + origin.x) * 3
            image.pixels.replaceSubrange(
                target..<target + cell.width * 3, with: cell.pixels[y * cell.width * 3..<(y + 1) * cell.width * 3])
        }
    }
}

extension ImageSynthesizer {
    /// The contact sheet of a per-class resampling of `z` on `label`: for each class of
    /// `classes` a row of `samples` images, each with only that class's channel group drawn
    /// afresh from N(0, I) (``resampling(_:classIndex:using:)``), drawn row by row, left to
    /// right, from `random`.
    public func contactSheet(
        label: LabelMap, instances: InstanceMap? = nil, z: Tensor, classes rowClasses: [Int], samples: Int,
        using random: inout RandomSource
    ) throws -> ContactSheet {
        try checkLatent(z, argument: "z")
        guard !rowClasses.isEmpty, (1...64).contains(samples) else {
            throw ApplicationError.invalidArgument(
                "contact sheet",
                reason: "\(rowClasses.count) classes and \(samples) samples; give 1 or more "
                    + "classes and 1…64 samples")
        }
        var cells: [[Image]] = []
        for classIndex in rowClasses {
            try checkClass(classIndex, argument: "classes")
            cells.append(
                try (0..<samples).map { _ in
                    try image(
                        label: label, instances: instances,
                        z: resampling(z, classIndex: classIndex, using: &random))
                })
        }
        return try ContactSheet(cells: cells, rowNames: rowClasses.map { classes[$0] }, rowClasses: rowClasses)
    }
}
