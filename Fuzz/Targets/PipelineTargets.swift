import Foundation
import Pipeline
import Statistics

/// A pipeline file, as `smisprep run` reads it, and a source label-set file.
enum PipelineTargets {
    /// LIP's label set, which every `source` value is resolved to.
    static let lip = LabelSet(
        source: "lip",
        classes: Dictionary(
            uniqueKeysWithValues: [
                "background", "hat", "hair", "glove", "sunglasses", "upper-clothes", "dress", "coat", "socks", "pants",
                "jumpsuits", "scarf", "skirt", "face", "left-arm", "right-arm", "left-leg", "right-leg", "left-shoe",
                "right-shoe"
            ].enumerated().map { ($0.offset, $0.element) }))

    static let pipeline = FuzzTarget(
        name: "pipeline", summary: "pipeline YAML (and label-set YAML): parse and resolve, render, parse the rendering"
    ) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? LabelSet(yaml: text, file: "fuzz.yaml")
        guard let configuration = try? PipelineConfiguration(yaml: text, file: "fuzz.yaml", loadSource: { _ in lip })
        else { return }
        let rendered = configuration.renderedYAML()
        let again = try? PipelineConfiguration(yaml: rendered, file: "rendered.yaml", loadSource: { _ in lip })
        expect(again == configuration, "a rendered configuration reads back to the same value:\n\(rendered)")
    }
}
