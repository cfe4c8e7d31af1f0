import ImageIO

/// Filled shapes on a label map: the drawing primitives of the synthetic people.
struct LabelCanvas {
    var label: LabelMap

    init(width: Int, height: Int, fill: UInt8) {
        label = LabelMap(width: width, height: height, filledWith: fill)
    }

    /// Fills the ellipse centred at (cx, cy) with radii (rx, ry).
    mutating func ellipse(cx: Double, cy: Double, rx: Double, ry: Double, value: UInt8) {
        let top = max(0, Int((cy - ry).rounded(.down))), bottom = min(label.height - 1, Int((cy + ry).rounded(.up)))
        guard top <= bottom else { return }
        for y in top...bottom {
            let dy = (Double(y) + 0.5 - cy) / ry
            guard dy * dy <= 1 else { continue }
            let half = rx * (1 - dy * dy).squareRoot()
            fillRow(y, from: cx - half, to: cx + half, value: value)
        }
    }

    /// Fills a polygon (even-odd rule, vertices in order) by scanlines through pixel centres.
    mutating func polygon(_ points: [(Double, Double)], value: UInt8) {
        guard points.count >= 3 else { return }
        let ys = points.map(\.1)
        let top = max(0, Int(ys.min()!.rounded(.down))), bottom = min(label.height - 1, Int(ys.max()!.rounded(.up)))
        guard top <= bottom else { return }
        for y in top...bottom {
            let sampleY = Double(y) + 0.5
            var crossings: [Double] = []
            for i in points.indices {
                let (x0, y0) = points[i], (x1, y1) = points[(i + 1) % points.count]
                if (y0 <= sampleY && y1 > sampleY) || (y1 <= sampleY && y0 > sampleY) {
                    crossings.append(x0 + (sampleY - y0) / (y1 - y0) * (x1 - x0))
                }
            }
            crossings.sort()
            var i = 0
            while i + 1 < crossings.count {
                fillRow(y, from: crossings[i], to: crossings[i + 1], value: value)
                i += 2
            }
        }
    }

    /// A thick segment from a to b with widths wa at a and wb at b (a limb).
    mutating func limb(from a: (Double, Double), to b: (Double, Double), widthA: Double, widthB: Double, value: UInt8) {
        let dx = b.0 - a.0, dy = b.1 - a.1
        let length = max((dx * dx + dy * dy).squareRoot(), 1e-9)
        let nx = -dy / length, ny = dx / length
        polygon([
            (a.0 + nx * widthA / 2, a.1 + ny * widthA / 2), (b.0 + nx * widthB / 2, b.1 + ny * widthB / 2),
            (b.0 - nx * widthB / 2, b.1 - ny * widthB / 2), (a.0 - nx * widthA / 2, a.1 - ny * widthA / 2),
        ], value: value)
    }

    /// Sets pixels whose centres lie in [x0, x1] on row y.
    private mutating func fillRow(_ y: Int, from x0: Double, to x1: Double, value: UInt8) {
        let first = max(0, Int((x0 - 0.5).rounded(.up))), last = min(label.width - 1, Int((x1 - 0.5).rounded(.down)))
        guard first <= last else { return }
        let row = y * label.width
        for x in first...last { label.values[row + x] = value }
    }
}
