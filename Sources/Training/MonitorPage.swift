import Statistics
import Foundation

/// `RUN/index.html`: the run's curves as inline SVG and its latest samples (label map,
/// generated image, photo and per-class resamples), as the reference's HTML visualizer shows
/// its run. A self-contained page (no script, no network) that any browser opens from disk;
/// the images are PNG files beside it, in `samples/step-…/`.
struct MonitorPage {
    struct Sample {
        var key: String
        var labelFile: String
        var generatedFile: String
        var photoFile: String
        var resamples: [(className: String, file: String)]
    }

    var runName: String
    var step: Int
    var lastStep: Int
    var epoch: Int
    var written: Date
    /// Where the samples come from (and what was left out), one sentence each.
    var notes: [String]
    var samples: [Sample]
    var history: RunHistory

    /// The charts: a title and the series drawn in it (tag, legend, dashed).
    static let charts: [(title: String, series: [(tag: String, legend: String, dashed: Bool)])] = [
        ("Generator loss", [("loss/G/total", "total", false), ("loss/G/adversarial", "adversarial", false),
                            ("loss/G/feature_matching", "feature matching", false), ("loss/G/kld", "KLD", false),
                            ("loss/G/vgg", "VGG", false), ("val/G/total", "validation total", true)]),
        ("Discriminator loss", [("loss/D/total", "total", false), ("loss/D/fake", "fake", false),
                                ("loss/D/real", "real", false), ("val/D/total", "validation total", true)]),
        ("Learning rate", [("learning_rate/G", "G and E", false), ("learning_rate/D", "D", false)]),
        ("Samples per second", [("speed/samples_per_second", "samples/s", false)]),
        ("Share of each step spent waiting for the batch", [("speed/data_wait_share", "data wait", false)]),
    ]

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]

    func html() -> String {
        let time = ISO8601DateFormatter().string(from: written)
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(runName)): step \(step)</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
            .charts { display: flex; flex-wrap: wrap; gap: 16px; }
            figure { margin: 0; } figcaption { font-size: 13px; margin-bottom: 4px; }
            .legend span { margin-right: 12px; font-size: 12px; white-space: nowrap; }
            .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
            table { border-collapse: collapse; }
            td { padding: 4px; vertical-align: top; font-size: 12px; text-align: center; }
            td img { display: block; image-rendering: pixelated; }
            </style></head><body>
            <h1>\(HTML.escape(runName))</h1>
            <p>Step \(step) of \(lastStep), epoch \(epoch); page written \(time) with the checkpoint of this step.
            TensorBoard shows every step: <code>tensorboard --logdir \(HTML.escape(runName))</code>.</p>

            """
        for note in notes { page += "<p>\(HTML.escape(note))</p>\n" }
        page += "<h2>Curves</h2>\n<div class=\"charts\">\n"
        for chart in Self.charts {
            let drawn = chart.series.enumerated().compactMap { index, series -> ChartSeries? in
                guard let points = history.series[series.tag]?.plotted, !points.isEmpty else { return nil }
                return ChartSeries(legend: series.legend, colour: Self.colours[index % Self.colours.count],
                                   dashed: series.dashed, points: points)
            }
            guard !drawn.isEmpty else { continue }
            page += "<figure><figcaption>\(HTML.escape(chart.title))</figcaption>\n" + LineChart.svg(drawn) + "\n"
            page += "<div class=\"legend\">" + drawn.map {
                "<span><i style=\"background:\($0.colour)\"></i>\(HTML.escape($0.legend))</span>"
            }.joined() + "</div></figure>\n"
        }
        page += "</div>\n"
        if !samples.isEmpty { page += samplesTable() }
        return page + "</body></html>\n"
    }

    private func samplesTable() -> String {
        var table = "<h2>Samples at step \(step)</h2>\n<p>Label map, generated image (z from E on the photo), photo, "
            + "then the generated image with one class's part of z drawn afresh.</p>\n<table>\n"
        for sample in samples {
            table += "<tr><td colspan=\"\(3 + sample.resamples.count)\" style=\"text-align:left\">"
                + "<b>\(HTML.escape(sample.key))</b></td></tr>\n<tr>"
            let cells = [("label", sample.labelFile), ("generated", sample.generatedFile), ("photo", sample.photoFile)]
                + sample.resamples.map { ("new \($0.className)", $0.file) }
            for (caption, file) in cells {
                let text = HTML.escape(caption)
                table += "<td><img src=\"\(HTML.escape(file))\" alt=\"\(text)\">\(text)</td>"
            }
            table += "</tr>\n"
        }
        return table + "</table>\n"
    }
}

/// One curve of a chart.
struct ChartSeries {
    var legend: String
    var colour: String
    var dashed: Bool
    var points: [CurvePoint]
}

/// A line chart as inline SVG: the series' points joined, with the value range on the left
/// axis and the step range below.
enum LineChart {
    static let width = 460.0, height = 220.0
    static let left = 64.0, right = 12.0, top = 10.0, bottom = 30.0

    static func svg(_ series: [ChartSeries]) -> String {
        let all = series.flatMap(\.points)
        var (minStep, maxStep) = (all.map(\.step).min()!, all.map(\.step).max()!)
        var (minValue, maxValue) = (all.map(\.value).min()!, all.map(\.value).max()!)
        if maxStep <= minStep { (minStep, maxStep) = (minStep - 1, maxStep + 1) }
        if maxValue <= minValue {
            let pad = max(abs(minValue) * 0.1, 1e-6)
            (minValue, maxValue) = (minValue - pad, maxValue + pad)
        }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ step: Double) -> Double { left + (step - minStep) / (maxStep - minStep) * plotWidth }
        func y(_ value: Double) -> Double { top + (maxValue - value) / (maxValue - minValue) * plotHeight }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"11\" font-family=\"sans-serif\">\n"
        svg += "<rect x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(plotWidth))\" "
            + "height=\"\(number(plotHeight))\" fill=\"none\" stroke=\"#bbb\"/>\n"
        for fraction in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let value = minValue + (maxValue - minValue) * fraction
            svg += "<text x=\"\(number(left - 4))\" y=\"\(number(y(value) + 4))\" text-anchor=\"end\">"
                + "\(label(value))</text>\n"
        }
        svg += "<text x=\"\(number(left))\" y=\"\(number(height - 10))\">step \(Int(minStep.rounded()))</text>\n"
        svg += "<text x=\"\(number(width - right))\" y=\"\(number(height - 10))\" text-anchor=\"end\">"
            + "\(Int(maxStep.rounded()))</text>\n"
        for line in series {
            let coordinates = line.points.map { "\(number(x($0.step))),\(number(y($0.value)))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"6 3\"" : ""
            svg += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"2\"\(dash) "
                + "points=\"\(coordinates)\"/>\n"
            if line.points.count == 1, let point = line.points.first {
                svg += "<circle cx=\"\(number(x(point.step)))\" cy=\"\(number(y(point.value)))\" r=\"3\" "
                    + "fill=\"\(line.colour)\"/>\n"
            }
        }
        return svg + "</svg>"
    }

    /// A tick label: 4 significant digits, without trailing noise.
    static func label(_ value: Double) -> String {
        String(format: "%.4g", value)
    }
}
