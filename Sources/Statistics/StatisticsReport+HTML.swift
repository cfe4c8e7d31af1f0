extension StatisticsReport {
    /// The report page: a pure function of the statistics and the contact sheet's file names.
    /// Every chart is an `<svg class="chart">` with a stable `id` (`class-share`,
    /// `class-presence`, `cooccurrence`, `photo-sizes`, `box-width-<id>`, `box-height-<id>`).
    static func htmlPage(
        _ statistics: DatasetStatistics, labelSet: LabelSet, contactSheet: [ContactSheetEntry]
    ) -> String {
        var body = "<h1>Data set statistics</h1>\n" + overview(statistics)
        body += section("Classes", classCharts(statistics, labelSet: labelSet) + classTableHTML(statistics))
        if statistics.classes.count > 1 {
            body += section("Co-occurrence", cooccurrence(statistics))
        }
        body += section("Sizes", sizeCharts(statistics, labelSet: labelSet))
        if let candidates = statistics.filterCandidates {
            body += section("Filter candidates", filterTable(candidates, statistics))
        }
        body += section("Photos", photoFacts(statistics))
        if !contactSheet.isEmpty { body += section("Contact sheet", contactSheetHTML(contactSheet)) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Data set statistics</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
            table { border-collapse: collapse; margin: 8px 0; }
            td, th { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }
            td:first-child, th:first-child { text-align: left; }
            .charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
            .sheet td { vertical-align: top; text-align: center; }
            .sheet img { image-rendering: pixelated; border: 1px solid #ccc; }
            figure { display: inline-block; margin: 2px 4px; font-size: 11px; }
            </style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    /// The grid of every pair of classes; with many classes, of the most frequent ones only,
    /// followed by the pairs found together most often.
    private static func cooccurrence(_ s: DatasetStatistics) -> String {
        let shown = s.gridClassIndices
        let labels = shown.map { "\(s.classes[$0].id) \(s.classes[$0].name)" }
        let title =
            s.hasManyClasses
            ? "Images holding both classes (the \(shown.count) classes in the most images)"
            : "Images holding both classes"
        var html = SVGChart.heatMap(
            id: "cooccurrence", title: title, labels: labels,
            values: shown.map { row in shown.map { s.cooccurrence[row][$0] } }, maxValue: max(1, s.sampleCount))
        guard s.hasManyClasses else { return html }
        html += "\n<table id=\"frequent-pairs\"><tr><th>classes</th><th>images with both</th><th>share</th></tr>\n"
        func share(_ images: Int) -> Double { Double(images) / Double(max(1, s.sampleCount)) }
        for pair in s.mostFrequentPairs() {
            let a = s.classes[pair.first], b = s.classes[pair.second]
            html +=
                "<tr><td>\(a.id) \(HTML.escape(a.name)) + \(b.id) \(HTML.escape(b.name))</td>"
                + "<td>\(TextFormat.grouped(pair.images))</td>"
                + "<td>\(TextFormat.percent(share(pair.images), digits: 1))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    private static func section(_ title: String, _ content: String) -> String {
        "<section><h2>\(HTML.escape(title))</h2>\n\(content)\n</section>\n"
    }

    private static func overview(_ s: DatasetStatistics) -> String {
        let partitions = s.partitions.sorted { $0.key < $1.key }
            .map { "\(HTML.escape($0.key)) \(TextFormat.grouped($0.value))" }.joined(separator: " · ")
        return "<p>\(TextFormat.grouped(s.sampleCount)) samples (\(partitions)); "
            + "\(s.labelSet == .source ? "source label ids" : "target classes"); "
            + "\(TextFormat.grouped(s.labelPixelCount)) label pixels; schema version \(s.schemaVersion).</p>\n"
    }

    private static func classCharts(_ s: DatasetStatistics, labelSet: LabelSet) -> String {
        let shown = s.shownClassIndices.map { s.classes[$0] }
        let share = SVGChart.horizontalBars(
            id: "class-share", title: "Pixel share",
            rows: shown.map {
                (
                    "\($0.id) \($0.name)", $0.pixelShare, TextFormat.percent($0.pixelShare),
                    LabelPalette.colour(of: $0.id, in: labelSet)
                )
            },
            maxValue: s.classes.map(\.pixelShare).max() ?? 0)
        let presence = SVGChart.horizontalBars(
            id: "class-presence", title: "Images containing the class",
            rows: shown.map {
                (
                    "\($0.id) \($0.name)", $0.imageShare,
                    "\(TextFormat.grouped($0.images)) (\(TextFormat.percent($0.imageShare, digits: 1)))",
                    LabelPalette.colour(of: $0.id, in: labelSet)
                )
            },
            maxValue: 1)
        let absent = s.absentClassesLine().map { "<p>\(HTML.escape($0)).</p>\n" } ?? ""
        return "<div class=\"charts\">\(share)\n\(presence)</div>\n" + absent
    }

    private static func classTableHTML(_ s: DatasetStatistics) -> String {
        var html =
            "<table><tr><th>class</th><th>pixels</th><th>share</th><th>images</th><th>mean area</th>"
            + "<th>median area</th><th>median area %</th><th>mean box w</th><th>mean box h</th></tr>\n"
        for c in s.shownClassIndices.map({ s.classes[$0] }) {
            html +=
                "<tr><td>\(c.id) \(HTML.escape(c.name))</td><td>\(TextFormat.grouped(c.pixels))</td>"
                + "<td>\(TextFormat.percent(c.pixelShare))</td><td>\(TextFormat.grouped(c.images))</td>"
                + "<td>\(TextFormat.groupedFixed(c.meanArea, digits: 1))</td>"
                + "<td>\(TextFormat.groupedFixed(c.medianArea, digits: 1))</td>"
                + "<td>\(TextFormat.percent(c.medianAreaFraction))</td>"
                + "<td>\(TextFormat.fixed(c.boundingBoxWidths.mean, digits: 3))</td>"
                + "<td>\(TextFormat.fixed(c.boundingBoxHeights.mean, digits: 3))</td></tr>\n"
        }
        html += "</table>\n"
        if !s.valuesOutsideTable.isEmpty {
            html +=
                "<p>Label values outside the table: "
                + s.valuesOutsideTable.map {
                    "\($0.value) (\(TextFormat.grouped($0.images)) images, \(TextFormat.grouped($0.pixels)) pixels)"
                }.joined(separator: ", ") + "</p>\n"
        }
        return html
    }

    private static func sizeCharts(_ s: DatasetStatistics, labelSet: LabelSet) -> String {
        var html = ""
        let sizes = s.photoSizes.isEmpty ? s.labelSizes : s.photoSizes
        if !sizes.isEmpty {
            let shown = Array(sizes.prefix(12))
            html +=
                "<div class=\"charts\">"
                + SVGChart.horizontalBars(
                    id: "photo-sizes", title: s.photoSizes.isEmpty ? "Label-map sizes" : "Photo sizes",
                    rows: shown.map {
                        (
                            "\($0.width)×\($0.height)", Double($0.count), TextFormat.grouped($0.count),
                            RGB(red: 90, green: 140, blue: 200)
                        )
                    },
                    maxValue: Double(shown.map(\.count).max() ?? 0)) + "</div>\n"
        }
        html += "<p>Bounding-box width and height of each class, as a fraction of the image's.</p>\n"
        html += "<div class=\"charts\">"
        for c in s.classes where c.images > 0 {
            let colour = LabelPalette.colour(of: c.id, in: labelSet)
            let shown = colour == RGB(red: 0, green: 0, blue: 0) ? RGB(red: 110, green: 110, blue: 110) : colour
            html += SVGChart.histogram(
                id: "box-width-\(c.id)", title: "\(c.name): box width", counts: c.boundingBoxWidths.counts,
                colour: shown)
            html += SVGChart.histogram(
                id: "box-height-\(c.id)", title: "\(c.name): box height", counts: c.boundingBoxHeights.counts,
                colour: shown)
        }
        return html + "</div>\n"
    }

    private static func filterTable(_ candidates: FilterCandidates, _ s: DatasetStatistics) -> String {
        var html =
            "<p>Images a <code>--filter</code> on each class would drop, "
            + "of \(TextFormat.grouped(s.sampleCount)).</p>\n"
        html +=
            "<table><tr><th>class</th>"
            + candidates.pixelThresholds.map { "<th>&gt; \(TextFormat.grouped($0)) px</th>" }.joined()
            + candidates.fractionThresholds.map { "<th>&gt; \(TextFormat.percent($0, digits: 1))</th>" }.joined()
            + "</tr>\n"
        for c in candidates.classes {
            html +=
                "<tr><td>\(c.id) \(HTML.escape(c.name))</td>"
                + (c.dropsAbovePixels + c.dropsAboveFraction).map { "<td>\(TextFormat.grouped($0))</td>" }.joined()
                + "</tr>\n"
        }
        return html + "</table>\n"
    }

    private static func photoFacts(_ s: DatasetStatistics) -> String {
        var html = ""
        if let channels = s.channels {
            html += "<table><tr><th>channel</th><th>mean</th><th>standard deviation</th></tr>\n"
            for (index, name) in ["R", "G", "B"].enumerated() {
                html +=
                    "<tr><td>\(name)</td><td>\(TextFormat.fixed(channels.mean[index], digits: 3))</td>"
                    + "<td>\(TextFormat.fixed(channels.standardDeviation[index], digits: 3))</td></tr>\n"
            }
            html += "</table>\n<p>Over \(TextFormat.grouped(channels.pixelCount)) pixels, in 0–255 units.</p>\n"
        } else {
            html += "<p>No photos.</p>\n"
        }
        html +=
            "<p>Duplicate photos: \(s.duplicates.groupCount) groups, "
            + "\(s.duplicates.redundantPhotoCount) redundant.</p>\n"
        if !s.duplicates.groups.isEmpty {
            html +=
                "<ul>"
                + s.duplicates.groups.prefix(50).map {
                    "<li>\($0.keys.map(HTML.escape).joined(separator: " = "))</li>"
                }.joined() + "</ul>\n"
        }
        if s.samplesWithoutPhoto > 0 { html += "<p>Samples without a photo: \(s.samplesWithoutPhoto).</p>\n" }
        if s.photoLabelSizeMismatches > 0 {
            html += "<p>Photos whose size differs from their label map: \(s.photoLabelSizeMismatches).</p>\n"
        }
        return html
    }

    private static func contactSheetHTML(_ entries: [ContactSheetEntry]) -> String {
        var html =
            "<table class=\"sheet\">"
            + "<tr><th>sample</th><th>photo</th><th>labels</th><th>per-class splits</th></tr>\n"
        for entry in entries {
            let photo = entry.photoFile.map { "<img src=\"\(HTML.escape($0))\" alt=\"photo\">" } ?? "no photo"
            let splits = entry.classFiles.map {
                "<figure><img src=\"\(HTML.escape($0.file))\" alt=\"\(HTML.escape($0.name))\">"
                    + "<figcaption>\(HTML.escape($0.name))</figcaption></figure>"
            }.joined()
            html +=
                "<tr><td>\(HTML.escape(entry.key))</td><td>\(photo)</td>"
                + "<td><img src=\"\(HTML.escape(entry.labelFile))\" alt=\"labels\"></td>"
                + "<td style=\"text-align:left\">\(splits)</td></tr>\n"
        }
        return html + "</table>\n"
    }
}
