import ImageIO
import Statistics
import Training

/// One class change of a label map: every pixel of class `from` becomes class `to`.
public struct Relabeling: Equatable, Sendable {
    public var from: Int
    public var to: Int

    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }
}

extension ImageSynthesizer {
    /// Parses `FROM=TO`, each side a class name of the checkpoint or a class id; errors name
    /// `argument` (the option or field it came from).
    public func relabeling(parsing text: String, argument: String = "--relabel") throws -> Relabeling {
        let sides = text.split(separator: "=", omittingEmptySubsequences: false)
        guard sides.count == 2, !sides[0].isEmpty, !sides[1].isEmpty else {
            throw ApplicationError.invalidArgument(argument, reason: "\(text) is not FROM=TO (two classes)")
        }
        return try Relabeling(
            from: classIndex(named: String(sides[0]), argument: argument),
            to: classIndex(named: String(sides[1]), argument: argument))
    }

    /// Semantic manipulation: `label` with every change applied at once, each to the pixels
    /// that had its `from` class in `label` (so `a=b b=a` swaps two classes, and `a=b b=c`
    /// moves a to b and b to c). Other pixels keep their class. Two changes of one class are
    /// refused, as are classes outside the model's.
    public func relabeled(_ label: LabelMap, _ changes: [Relabeling]) throws -> LabelMap {
        var table = (0...255).map { UInt8($0) }
        var changed = Set<Int>()
        for change in changes {
            try checkClass(change.from, argument: "--relabel")
            try checkClass(change.to, argument: "--relabel")
            guard changed.insert(change.from).inserted else {
                throw ApplicationError.invalidArgument(
                    "--relabel", reason: "class \(classes[change.from]) is relabelled twice")
            }
            table[change.from] = UInt8(change.to)
        }
        var edited = label
        for index in edited.values.indices { edited.values[index] = table[Int(label.values[index])] }
        return edited
    }

    /// Semantic manipulation with a brush: `label` with a filled disc of class `classIndex`
    /// painted at pixel (`x`, `y`), which must lie on the map: every pixel whose centre lies
    /// within `radius` pixels of that pixel's centre (radius 0 paints the one pixel). Parts of
    /// the disc outside the map are dropped.
    public func painted(_ label: LabelMap, classIndex: Int, x: Int, y: Int, radius: Int) throws -> LabelMap {
        try checkClass(classIndex, argument: "brush class")
        guard (0..<label.width).contains(x), (0..<label.height).contains(y) else {
            throw ApplicationError.invalidArgument(
                "brush position", reason: "(\(x), \(y)) is outside the \(label.width)×\(label.height) map")
        }
        guard (0...max(label.width, label.height)).contains(radius) else {
            throw ApplicationError.invalidArgument(
                "brush radius", reason: "\(radius) is not in 0…\(max(label.width, label.height))")
        }
        var edited = label
        for row in max(0, y - radius)...min(label.height - 1, y + radius) {
            for column in max(0, x - radius)...min(label.width - 1, x + radius) {
                let dx = column - x, dy = row - y
                if dx * dx + dy * dy <= radius * radius {
                    edited.values[row * label.width + column] = UInt8(classIndex)
                }
            }
        }
        return edited
    }

    /// Checks that an edited label map (read with ``labelMap(contentsOfFile:resize:)``) has the
    /// size of the map it edits, so that z, which has the model's shape, still fits it; `file`
    /// is named in the error.
    public func checkEdited(_ edited: LabelMap, matches original: LabelMap, file: String) throws {
        guard edited.width == original.width, edited.height == original.height else {
            throw ApplicationError.invalidArgument(
                file,
                reason: "edited label map is \(edited.width)×\(edited.height), the original "
                    + "\(original.width)×\(original.height)")
        }
    }
}

extension ImageSynthesizer {
    /// `label` as a palette PNG whose index is the class id and whose colours are the VOC colour
    /// map's (as LIP and CIHP label maps are): a paint program shows the classes in colour and
    /// keeps the ids, and ``labelMap(contentsOfFile:resize:)`` reads the ids back.
    public func labelPNG(_ label: LabelMap) throws -> [UInt8] {
        let palette = (0..<configuration.classCount).map { VOCColourMap.colour($0) }
        return try label.encodedPNG(palette: palette.map { ($0.red, $0.green, $0.blue) })
    }
}
