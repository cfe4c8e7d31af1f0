import Foundation

extension PipelineConfiguration {
    /// This configuration as a pipeline file that `smisprep run` reads back to the same value.
    ///
    /// Written beside a run's outputs as `pipeline.yaml`. When `baseline` (the file as it was
    /// before command-line overrides) is given, every value that differs from it carries a
    /// `# changed (was …)` comment, so the record shows what the run did differently.
    /// The source is written as an absolute path to its label-set file when `sourcePath` is
    /// given, so the record stays readable from its new folder.
    public func renderedYAML(baseline: PipelineConfiguration? = nil, sourcePath: String? = nil) -> String {
        var lines: [String] = ["# Effective configuration of a `smisprep` run; `smisprep run` reads it back."]
        func mark(_ changed: Bool, _ was: @autoclosure () -> String) -> String {
            changed && baseline != nil ? "   # changed (was \(was()))" : ""
        }
        func text(_ value: String?) -> String { value.map(quoted) ?? "null" }

        lines.append("source: \(quoted(sourcePath ?? sourceReference))"
            + mark(baseline.map { $0.source != source } ?? false, baseline?.sourceReference ?? ""))
        lines.append("images: \(text(images))" + mark(baseline.map { $0.images != images } ?? false, text(baseline?.images)))
        lines.append("labels: \(text(labels))" + mark(baseline.map { $0.labels != labels } ?? false, text(baseline?.labels)))
        lines.append("output: \(text(output))" + mark(baseline.map { $0.output != output } ?? false, text(baseline?.output)))
        lines.append("classes: [\(classMapping.names.map(quoted).joined(separator: ", "))]")
        lines.append("mapping:")
        for sourceName in classMapping.mappingsBySource.keys.sorted() {
            lines.append("  \(quoted(sourceName)):")
            for (target, sources) in classMapping.mappingsBySource[sourceName]!.enumerated() {
                lines.append("    \(quoted(classMapping.names[target])): [\(sources.map(quoted).joined(separator: ", "))]")
            }
        }
        lines.append("ignore:")
        lines.append("  value: \(ignore.value)")
        lines.append("  becomes: \(ignore.becomes.map { quoted(classMapping.names[$0]) } ?? "reject")")
        lines.append("filter:")
        let classesChanged = baseline.map { $0.filter.classNames != filter.classNames } ?? false
        lines.append("  classes: [\(filter.classNames.map(quoted).joined(separator: ", "))]"
            + mark(classesChanged, "[" + (baseline?.filter.classNames.joined(separator: ", ") ?? "") + "]"))
        lines.append("  threshold: \(quoted(filter.threshold.description))"
            + mark(baseline.map { $0.filter.threshold != filter.threshold } ?? false, baseline?.filter.threshold.description ?? ""))
        lines.append("resize:")
        let sizeChanged = baseline.map { $0.resize.width != resize.width || $0.resize.height != resize.height } ?? false
        lines.append("  size: \(resize.width)x\(resize.height)"
            + mark(sizeChanged, "\(baseline?.resize.width ?? 0)x\(baseline?.resize.height ?? 0)"))
        lines.append("  fit: \(resize.fit.rawValue)" + mark(baseline.map { $0.resize.fit != resize.fit } ?? false, baseline?.resize.fit.rawValue ?? ""))
        lines.append("  photo-filter: \(resize.photoFilter.rawValue)")
        lines.append("partition:")
        lines.append("  list: \(text(partition.list))"
            + mark(baseline.map { $0.partition.list != partition.list } ?? false, text(baseline?.partition.list)))
        lines.append("  val-fraction: \(partition.validationFraction)"
            + mark(baseline.map { $0.partition.validationFraction != partition.validationFraction } ?? false,
                   String(baseline?.partition.validationFraction ?? 0)))
        lines.append("outputs:")
        lines.append("  prepared: \(outputs.prepared)")
        lines.append("  split: \(outputs.split)" + mark(baseline.map { $0.outputs.split != outputs.split } ?? false, String(baseline?.outputs.split ?? false)))
        lines.append("  photo-quality: \(outputs.photoQuality)")
        if let shards = outputs.shards {
            // Marked against the file's shard settings, line by line (all new when it had none).
            let was = baseline?.outputs.shards.map(Self.shardLines)
            lines.append("  shards:" + mark(baseline != nil && was == nil, "null"))
            for (index, line) in Self.shardLines(shards).enumerated() {
                let old = was?[index] ?? line
                lines.append(line + mark(line != old, old.trimmingCharacters(in: .whitespaces)))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The part of the configuration that decides the prepared samples: `renderedYAML()`
    /// without `outputs.shards`. The runner keeps it in the output folder and refuses to resume
    /// under another one. Shard settings stay out because the shard stage resumes on its own
    /// (by the hash of its inputs and settings): changing them re-shards the prepared folder
    /// without preparing a sample again.
    ///
    /// The source label set appears by its name and its classes, not as it was referred to:
    /// `--source lip` and the `pipeline.yaml` such a run writes (which names the file
    /// `…/Pipelines/sources/lip.yaml`) are one configuration, so `smisprep run OUT/pipeline.yaml`
    /// resumes what `smisprep deepfashion` started.
    public var preparationFingerprint: String {
        var preparation = self
        preparation.outputs.shards = nil
        let sourceClasses = source.namesByID.enumerated().compactMap { id, name in name.map { "\(id)=\($0)" } }
        return preparation.renderedYAML(sourcePath: source.name)
            + "# source label set: " + sourceClasses.joined(separator: ", ") + "\n"
    }

    /// The lines under `outputs.shards:`, spelt as the file reads them.
    private static func shardLines(_ shards: ShardSettings) -> [String] {
        let sizing: String
        switch shards.sizing {
        case .records(let count): sizing = "records-per-shard: \(count)"
        case .bytes(let bytes): sizing = "shard-size: \(bytes)"
        }
        return ["    directory: \(quoted(shards.directory))", "    \(sizing)",
                "    image: \(quoted(shards.image.description))", "    label: \(shards.label.rawValue)"]
    }
}

/// A YAML double-quoted scalar (always quoted, so `null`, `yes` or `1` stay text).
func quoted(_ text: String) -> String {
    var escaped = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case "\n": escaped += "\\n"
        case "\t": escaped += "\\t"
        default:
            if scalar.value < 0x20 { escaped += String(format: "\\x%02X", scalar.value) } else { escaped.unicodeScalars.append(scalar) }
        }
    }
    return "\"\(escaped)\""
}
