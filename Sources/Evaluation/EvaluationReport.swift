import AtomicFiles
import Foundation
import ImageIO
import Statistics

/// What the report shows of one label map: its map, the image from z₀, and each present
/// class's resamples (the supplementary's Figure 5: one row per class, only it changing).
public struct EvaluatedLabelMap {
    public let key: String
    public let label: LabelMap
    public let image: Image
    public let resamples: [(classIndex: Int, images: [Image], diversity: ClassDiversity)]
}

/// `smis evaluate --report DIR`: DIR/index.html with the Table 1 row, the settings and the
/// sample grids, and the pictures it shows under DIR/images/. Every file is written atomically.
public enum EvaluationReport {
    public static func write(
        _ result: ModelEvaluationResult, maps: [EvaluatedLabelMap], classes: [String], to folder: URL
    ) throws {
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let labelSet = LabelSet(targetClasses: classes)
        var sections: [String] = []
        for (number, map) in maps.enumerated() {
            func picture(_ image: Image, _ name: String) throws -> String {
                try AtomicFileWriter.write(image.encodedPNG(), to: images.appendingPathComponent(name).path)
                return "<img src=\"images/\(name)\" alt=\"\(HTML.escape(name))\">"
            }
            let label = try picture(LabelColours.image(of: map.label, labelSet: labelSet), "\(number)-label.png")
            let base = try picture(map.image, "\(number)-z0.png")
            var rows = ["<tr><th>label map, z₀</th><td>\(label)</td><td>\(base)</td></tr>"]
            for resample in map.resamples {
                let index = resample.classIndex
                let name = index < classes.count ? classes[index] : "\(index)"
                let cells = try resample.images.enumerated().map { index, image in
                    try "<td>" + picture(image, "\(number)-class\(resample.classIndex)-\(index + 1).png") + "</td>"
                }
                let scores = String(
                    format: "CSD %.4f, OCD %.4f", resample.diversity.inside, resample.diversity.outside)
                rows.append("<tr><th>\(HTML.escape(name))<br><small>\(scores)</small></th>\(cells.joined())</tr>")
            }
            sections.append(
                "<h2>\(HTML.escape(map.key))</h2>\n<table class=\"grid\">\n\(rows.joined(separator: "\n"))\n</table>")
        }
        let page = html(result, sections: sections)
        try AtomicFileWriter.write(Array(page.utf8), to: folder.appendingPathComponent("index.html").path)
    }

    private static func html(_ r: ModelEvaluationResult, sections: [String]) -> String {
        let row = [
            String(format: "%.2f", r.fid), String(format: "%.4f", r.mcsd), String(format: "%.4f", r.mocd),
            String(format: "%.4f", r.lpips), String(format: "%.2f", r.fps),
            String(format: "%.1f", Double(r.parameters) / 1e6)
        ].map { "<td>\($0)</td>" }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>smis evaluate</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
            td,th{border:1px solid #ccc;padding:4px;text-align:center}.grid img{width:128px}</style></head>
            <body>
            <h1>Evaluation</h1>
            <table><tr><th>FID ↓</th><th>mCSD ↑</th><th>mOCD ↓</th><th>LPIPS ↑</th><th>FPS ↑</th>\
            <th>Params (M)</th></tr>
            <tr>\(row)</tr></table>
            <p>\(r.images) label maps of the \(HTML.escape(r.split)) split; \(r.pairsPerMap) pair(s) per map for \
            LPIPS diversity; \(r.samplesPerClass) samples per class for mCSD / mOCD, regions by \
            \(HTML.escape(r.region)). Each row below resamples one class's latent code only.</p>
            \(sections.joined(separator: "\n"))
            </body></html>

            """
    }
}
