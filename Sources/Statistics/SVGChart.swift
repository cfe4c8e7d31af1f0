/// Inline SVG charts for the HTML report: plain strings, no scripts, so any browser (or an
/// SVG viewer) draws them and tests can compare them as text.
enum SVGChart {
    /// One labelled horizontal bar per row; bar length is `value / maxValue` of the plot width.
    static func horizontalBars(
        id: String, title: String, rows: [(label: String, value: Double, text: String, colour: RGB)], maxValue: Double
    ) -> String {
        let labelWidth = 170, plotWidth = 360, textWidth = 110, rowHeight = 22, top = 28
        let width = labelWidth + plotWidth + textWidth, height = top + rowHeight * rows.count + 8
        var svg = open(id: id, title: title, width: width, height: height)
        for (index, row) in rows.enumerated() {
            let y = top + index * rowHeight
            let length = maxValue > 0 ? Double(plotWidth) * max(0, row.value) / maxValue : 0
            svg += text(row.label, x: labelWidth - 6, y: y + 15, anchor: "end")
            svg += "<rect class=\"bar\" x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(number(length))\" "
                + "height=\"\(rowHeight - 6)\" fill=\"\(row.colour.hex)\" stroke=\"#333\" stroke-width=\"0.5\"/>"
            svg += text(row.text, x: labelWidth + Int(length.rounded()) + 6, y: y + 15, anchor: "start")
        }
        return svg + "</svg>"
    }

    /// An n × n grid; cell (row, column) is shaded by `values[row][column] / maxValue`, with
    /// the value printed in it.
    static func heatMap(id: String, title: String, labels: [String], values: [[Int]], maxValue: Int) -> String {
        let cell = 34, left = 150, top = 130
        let size = cell * labels.count
        var svg = open(id: id, title: title, width: left + size + 10, height: top + size + 10)
        for (index, label) in labels.enumerated() {
            svg += text(label, x: left - 6, y: top + index * cell + cell / 2 + 4, anchor: "end")
            let x = left + index * cell + cell / 2 + 4, y = top - 6
            svg += "<text x=\"\(x)\" y=\"\(y)\" font-size=\"11\" text-anchor=\"start\" "
                + "transform=\"rotate(-60 \(x) \(y))\">\(HTML.escape(label))</text>"
        }
        for (row, rowValues) in values.enumerated() {
            for (column, value) in rowValues.enumerated() {
                let fraction = maxValue > 0 ? Double(value) / Double(maxValue) : 0
                // White to a deep blue; text turns white on dark cells.
                let colour = RGB(
                    red: UInt8(255 - 225 * fraction), green: UInt8(255 - 185 * fraction),
                    blue: UInt8(255 - 75 * fraction))
                let x = left + column * cell, y = top + row * cell
                svg += "<rect class=\"cell\" x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" "
                    + "fill=\"\(colour.hex)\" stroke=\"#ccc\" stroke-width=\"0.5\"><title>"
                    + "\(HTML.escape(labels[row])) and \(HTML.escape(labels[column])): \(value)</title></rect>"
                svg += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" font-size=\"10\" text-anchor=\"middle\" "
                    + "fill=\"\(fraction > 0.55 ? "#fff" : "#222")\">\(compact(value))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// Vertical bars over equal bins of [0, 1], with the axis marked at 0, 0.5 and 1.
    static func histogram(id: String, title: String, counts: [Int], colour: RGB) -> String {
        let width = 180, height = 110, left = 6, bottom = 22, top = 22
        let plotWidth = width - 2 * left, plotHeight = height - top - bottom
        let tallest = max(1, counts.max() ?? 0)
        var svg = open(id: id, title: title, width: width, height: height, titleSize: 11)
        let barWidth = Double(plotWidth) / Double(max(1, counts.count))
        for (bin, count) in counts.enumerated() where count > 0 {
            let barHeight = Double(plotHeight) * Double(count) / Double(tallest)
            svg += "<rect class=\"bar\" x=\"\(number(Double(left) + Double(bin) * barWidth + 0.5))\" "
                + "y=\"\(number(Double(height - bottom) - barHeight))\" width=\"\(number(barWidth - 1))\" "
                + "height=\"\(number(barHeight))\" fill=\"\(colour.hex)\" stroke=\"#333\" stroke-width=\"0.5\">"
                + "<title>\(count)</title></rect>"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - left)\" y2=\"\(height - bottom)\" "
            + "stroke=\"#333\"/>"
        svg += text("0", x: left, y: height - 8, anchor: "start", size: 10)
        svg += text("0.5", x: width / 2, y: height - 8, anchor: "middle", size: 10)
        svg += text("1", x: width - left, y: height - 8, anchor: "end", size: 10)
        return svg + "</svg>"
    }

    private static func open(id: String, title: String, width: Int, height: Int, titleSize: Int = 14) -> String {
        "<svg class=\"chart\" id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" "
            + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">"
            + "<text x=\"4\" y=\"\(titleSize + 2)\" font-size=\"\(titleSize)\" font-weight=\"bold\">"
            + "\(HTML.escape(title))</text>"
    }

    private static func text(_ content: String, x: Int, y: Int, anchor: String, size: Int = 12) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" text-anchor=\"\(anchor)\">\(HTML.escape(content))</text>"
    }

    /// Two decimals at most, no trailing zeros: SVG lengths.
    static func number(_ value: Double) -> String {
        let text = TextFormat.fixed(value, digits: 2)
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") && trimmed.contains(".") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    /// 1234 → "1.2k", 2500000 → "2.5M": fits a heat-map cell.
    static func compact(_ value: Int) -> String {
        if value >= 1_000_000 { return TextFormat.fixed(Double(value) / 1_000_000, digits: 1) + "M" }
        if value >= 10_000 { return "\(value / 1_000)k" }
        if value >= 1_000 { return TextFormat.fixed(Double(value) / 1_000, digits: 1) + "k" }
        return "\(value)"
    }
}

/// A display colour.
struct RGB: Equatable {
    var red: UInt8, green: UInt8, blue: UInt8
    var hex: String {
        "#" + [red, green, blue].map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

/// HTML text for the toolkit's pages (the statistics report, a run's `index.html`).
public enum HTML {
    /// Escapes text for element content and double-quoted attributes (every attribute the
    /// pages write is double-quoted, so `'` needs no escape).
    public static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
