import _TestSupport
import Foundation

/// The pixel dump of a PngSuite `.sng` file (the text form of a PNG written by the sng tool),
/// reduced to what a decoder is checked against: 8-bit RGB, and the palette indices or raw gray
/// values where the file has them. Independent of libpng.
struct SNGReference {
    var width = 0
    var height = 0
    var bitDepth = 0
    var model = ""
    var palette: [[UInt8]] = []
    var rgb: [UInt8] = []
    /// Palette indices for palette files; nil for others.
    var indices: [UInt8]?

    init(text: String) throws {
        var section = ""
        var rows: [[UInt8]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map({
            $0.trimmingCharacters(in: .whitespaces)
        }) {
            if line.hasSuffix("{") || line.contains("{") && !line.contains("}") {
                section = String(line.split(separator: " ").first ?? "")
                if section == "IHDR" || section == "PLTE" || section == "IMAGE" { continue }
            }
            if line == "}" { section = ""; continue }
            switch section {
            case "IHDR":
                for field in line.split(separator: ";") {
                    let parts = field.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                    if parts.count == 2 {
                        switch parts[0] {
                        case "width": width = Int(parts[1]) ?? 0
                        case "height": height = Int(parts[1]) ?? 0
                        case "bitdepth": bitDepth = Int(parts[1]) ?? 0
                        default: break
                        }
                    } else if field.contains("using") {
                        model = field.replacingOccurrences(of: "using", with: "").trimmingCharacters(in: .whitespaces)
                    }
                }
            case "PLTE":
                guard line.hasPrefix("(") else { continue }
                let inside = line.dropFirst().prefix(while: { $0 != ")" })
                palette.append(inside.split(separator: ",").map { UInt8($0.trimmingCharacters(in: .whitespaces))! })
            case "IMAGE":
                if line.hasPrefix("pixels") || line.isEmpty { continue }
                rows.append(bytes(hex: line.filter { !$0.isWhitespace }))
            default: continue
            }
        }
        guard rows.count == height else { throw CocoaError(.fileReadCorruptFile) }
        try decodeRows(rows)
    }

    private mutating func decodeRows(_ rows: [[UInt8]]) throws {
        let wide = bitDepth == 16
        for row in rows {
            switch model {
            case "color palette":
                var values: [UInt8] = []
                for x in 0..<width {
                    let bit = x * bitDepth
                    let byte = row[bit / 8]
                    let shift = 8 - bitDepth - bit % 8
                    values.append((byte >> UInt8(shift)) & UInt8((1 << bitDepth) - 1))
                }
                indices = (indices ?? []) + values
                for v in values { rgb += palette[Int(v)] }
            default:
                let channels = ["grayscale": 1, "grayscale alpha": 2, "color": 3, "color alpha": 4][model]!
                let step = channels * (wide ? 2 : 1)
                for x in 0..<width {
                    let pixel = Array(row[(x * step)..<((x + 1) * step)])
                    let high = stride(from: 0, to: pixel.count, by: wide ? 2 : 1).map { pixel[$0] }
                    rgb += channels <= 2 ? [high[0], high[0], high[0]] : Array(high[0..<3])
                }
            }
        }
    }
}
