extension DatasetStatistics {
    /// The statistics as aligned plain-text tables with unicode bar charts, for a terminal.
    /// A pure function: the front end prints the result.
    ///
    /// - Parameter barWidth: characters of the widest bar (bars are drawn in eighths of a
    ///   character, so a share of 1/80 of the widest still shows).
    public func terminalTable(barWidth: Int = 20) -> String {
        var sections = [overviewSection(), classSection(barWidth: barWidth), cooccurrenceSection()]
        if let filterCandidates { sections.append(filterSection(filterCandidates)) }
        sections.append(photoSection())
        return sections.filter { !$0.isEmpty }.joined(separator: "\n\n") + "\n"
    }

    private func overviewSection() -> String {
        let partitionText = partitions.sorted { $0.key < $1.key }
            .map { "\($0.key) \(TextFormat.grouped($0.value))" }.joined(separator: " · ")
        var lines = [
            "Samples: \(TextFormat.grouped(sampleCount))" + (partitionText.isEmpty ? "" : "   (\(partitionText))"),
            "Label sizes: " + Self.sizesText(labelSizes),
            "Photo sizes: " + (photoSizes.isEmpty ? "no photos" : Self.sizesText(photoSizes))
        ]
        if samplesWithoutPhoto > 0 {
            lines.append("Samples without a photo: \(TextFormat.grouped(samplesWithoutPhoto))")
        }
        if photoLabelSizeMismatches > 0 {
            let mismatches = TextFormat.grouped(photoLabelSizeMismatches)
            lines.append("Photos whose size differs from their label map: \(mismatches)")
        }
        return lines.joined(separator: "\n")
    }

    private static func sizesText(_ sizes: [SizeCount]) -> String {
        let shown = sizes.prefix(4).map { "\($0.width)×\($0.height) ×\(TextFormat.grouped($0.count))" }
        let more = sizes.count > 4 ? " and \(sizes.count - 4) more sizes" : ""
        return shown.joined(separator: ", ") + more
    }

    private func classSection(barWidth: Int) -> String {
        let maxShare = classes.map(\.pixelShare).max() ?? 0
        var table = TextTable(
            header: [
                "id", "class", "pixel share", "", "images", "presence", "", "mean area", "median area",
                "box w", "box h", "box width histogram"
            ],
            rightAligned: [0, 2, 4, 5, 7, 8, 9, 10])
        for c in shownClassIndices.map({ classes[$0] }) {
            table.add([
                "\(c.id)", c.name, TextFormat.percent(c.pixelShare),
                TextFormat.bar(maxShare > 0 ? c.pixelShare / maxShare : 0, width: barWidth),
                TextFormat.grouped(c.images), TextFormat.percent(c.imageShare),
                TextFormat.bar(c.imageShare, width: barWidth / 2),
                TextFormat.groupedFixed(c.meanArea, digits: 1), TextFormat.groupedFixed(c.medianArea, digits: 1),
                TextFormat.fixed(c.boundingBoxWidths.mean, digits: 2),
                TextFormat.fixed(c.boundingBoxHeights.mean, digits: 2),
                TextFormat.sparkline(c.boundingBoxWidths.counts)
            ])
        }
        var text = "Classes (areas in pixels; box w/h: mean bounding box as a fraction of the image)\n"
        text += table.rendered()
        if let absent = absentClassesLine() { text += "\n" + absent }
        if !valuesOutsideTable.isEmpty {
            text +=
                "\nLabel values outside the table: "
                + valuesOutsideTable.map {
                    "\($0.value) (\(TextFormat.grouped($0.images)) images, \(TextFormat.grouped($0.pixels)) pixels)"
                }.joined(separator: ", ")
        }
        return text
    }

    private func cooccurrenceSection() -> String {
        guard classes.count > 1, sampleCount > 0 else { return "" }
        if hasManyClasses { return pairsSection() }
        var table = TextTable(
            header: ["images with both (%)"] + classes.map { "\($0.id)" },
            rightAligned: Set(1...classes.count))
        for (row, c) in classes.enumerated() {
            table.add(
                ["\(c.id) \(c.name)"]
                    + cooccurrence[row].map {
                        TextFormat.fixed(100 * Double($0) / Double(sampleCount), digits: 0)
                    })
        }
        return "Co-occurrence\n" + table.rendered()
    }

    /// With many classes: the pairs most often together, in place of the grid.
    private func pairsSection() -> String {
        var table = TextTable(header: ["images with both", "", "classes"], rightAligned: [0, 1])
        for pair in mostFrequentPairs() {
            let a = classes[pair.first], b = classes[pair.second]
            table.add([
                TextFormat.grouped(pair.images),
                TextFormat.percent(Double(pair.images) / Double(sampleCount), digits: 0),
                "\(a.id) \(a.name) + \(b.id) \(b.name)"
            ])
        }
        return "Co-occurrence: the \(Self.listedPairCount) pairs of classes most often in one sample "
            + "(of \(TextFormat.grouped(sampleCount)))\n" + table.rendered()
    }

    private func filterSection(_ candidates: FilterCandidates) -> String {
        let header =
            ["--filter class"] + candidates.pixelThresholds.map { "> \(TextFormat.grouped($0)) px" }
            + candidates.fractionThresholds.map { "> \(TextFormat.percent($0, digits: 1))" }
        var table = TextTable(header: header, rightAligned: Set(1..<header.count))
        for c in candidates.classes {
            let drops = c.dropsAbovePixels + c.dropsAboveFraction
            table.add(["\(c.id) \(c.name)"] + drops.map { TextFormat.grouped($0) })
        }
        return "Images a --filter on each class would drop (of \(TextFormat.grouped(sampleCount)))\n"
            + table.rendered()
    }

    private func photoSection() -> String {
        var lines: [String] = []
        if let channels {
            let names = ["R", "G", "B"]
            lines.append("Photo channels over \(TextFormat.grouped(channels.pixelCount)) pixels (0–255):")
            lines.append(
                "  mean "
                    + (0..<3).map { "\(names[$0]) \(TextFormat.fixed(channels.mean[$0], digits: 3))" }
                    .joined(separator: "  "))
            lines.append(
                "  std  "
                    + (0..<3).map {
                        "\(names[$0]) \(TextFormat.fixed(channels.standardDeviation[$0], digits: 3))"
                    }.joined(separator: "  "))
        }
        if duplicates.groupCount == 0 {
            if channels != nil { lines.append("Duplicate photos: none") }
        } else {
            lines.append(
                "Duplicate photos: \(TextFormat.grouped(duplicates.groupCount)) groups, "
                    + "\(TextFormat.grouped(duplicates.redundantPhotoCount)) redundant photos")
            for group in duplicates.groups.prefix(5) { lines.append("  " + group.keys.joined(separator: " = ")) }
            if duplicates.groups.count > 5 {
                lines.append("  … \(duplicates.groups.count - 5) more groups (see --json)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Columns padded to their widest cell, two spaces apart, with a rule under the header.
struct TextTable {
    var header: [String]
    var rightAligned: Set<Int>
    var rows: [[String]] = []

    init(header: [String], rightAligned: Set<Int>) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func rendered() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingTrailingSpaces()
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

/// Number and bar formatting shared by the table and the HTML report; locale-independent so
/// output is the same on every machine.
enum TextFormat {
    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// 0.1234 → "12.34 %" with `digits` decimals.
    static func percent(_ fraction: Double, digits: Int = 2) -> String {
        fixed(100 * fraction, digits: digits) + " %"
    }

    /// Fixed-point decimal with `digits` decimals, rounded half away from zero.
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        let integer = Int(scaled / scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(integer)
        if digits > 0 {
            let fraction = String(Int(scaled - Double(integer) * scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// `fixed` with thousands separators: 131363.75 → "131,363.8".
    static func groupedFixed(_ value: Double, digits: Int) -> String {
        let text = fixed(value, digits: digits)
        let negative = text.hasPrefix("-")
        let unsigned = negative ? String(text.dropFirst()) : text
        let parts = unsigned.split(separator: ".", maxSplits: 1)
        guard let integer = Int(parts[0]) else { return text }
        return (negative ? "-" : "") + grouped(integer) + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// A horizontal bar of `fraction` (0…1) of `width` characters, in eighths.
    static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partials[eighths % 8]
    }

    /// One block per count, its height proportional to the largest count.
    static func sparkline(_ counts: [Int]) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let top = counts.max() ?? 0
        guard top > 0 else { return String(repeating: " ", count: counts.count) }
        return String(counts.map { $0 == 0 ? " " : blocks[min(7, ($0 * 8 - 1) / top)] })
    }
}
