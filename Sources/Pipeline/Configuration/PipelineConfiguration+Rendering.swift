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
        /// `line`, marked `# changed (was …)` when the baseline's value at `keyPath` differs.
        func marked<Value: Equatable>(
            _ line: String, _ keyPath: KeyPath<PipelineConfiguration, Value>, was: (Value) -> String
        ) -> String {
            // Not `baseline?[keyPath:]`: that would flatten an optional value's nil into "no baseline".
            guard let baseline, baseline[keyPath: keyPath] != self[keyPath: keyPath] else { return line }
            return line + "   # changed (was \(was(baseline[keyPath: keyPath])))"
        }
        func text(_ value: String?) -> String { value.map(quoted) ?? "null" }
        func list(_ values: [String]) -> String { "[" + values.map(quoted).joined(separator: ", ") + "]" }

        let sourceLine = "source: \(quoted(sourcePath ?? sourceReference))"
        lines.append(marked(sourceLine, \.source) { _ in baseline!.sourceReference })
        lines.append(marked("images: \(text(images))", \.images, was: text))
        lines.append(marked("labels: \(text(labels))", \.labels, was: text))
        lines.append(marked("output: \(text(output))", \.output, was: text))
        // The sections and keys a DeepFashion file does without are written only when set, so
        // that such a file's record (and its resume fingerprint) reads as before they existed.
        if !inputs.isDefault {
            lines.append("inputs:")
            for (key, value) in [("photo-suffix", inputs.photoSuffix), ("label-suffix", inputs.labelSuffix),
                                 ("instance-suffix", inputs.instanceSuffix)] {
                if let value { lines.append("  \(key): \(quoted(value))") }
            }
        }
        lines.append("classes: \(list(classMapping.names))")
        lines.append("mapping:")
        for sourceName in classMapping.mappingsBySource.keys.sorted() {
            lines.append("  \(quoted(sourceName)):")
            for (target, sources) in classMapping.mappingsBySource[sourceName]!.enumerated() {
                lines.append("    \(quoted(classMapping.names[target])): \(list(sources))")
            }
        }
        lines.append("ignore:")
        lines.append("  value: \(ignore.value)")
        lines.append("  becomes: \(ignore.becomes.map { quoted(classMapping.names[$0]) } ?? "reject")")
        lines.append("filter:")
        lines.append(marked("  classes: \(list(filter.classNames))", \.filter.classNames) {
            "[" + $0.joined(separator: ", ") + "]"
        })
        let threshold = "  threshold: \(quoted(filter.threshold.description))"
        lines.append(marked(threshold, \.filter.threshold, was: \.description))
        lines.append("resize:")
        lines.append(marked("  size: \(resize.size)", \.resize.size, was: \.description))
        if let trainSize = resize.trainSize {
            lines.append(marked("  train-size: \(trainSize)", \.resize.trainSize) { $0?.description ?? "null" })
        }
        lines.append(marked("  fit: \(resize.fit.rawValue)", \.resize.fit, was: \.rawValue))
        lines.append("  photo-filter: \(resize.photoFilter.rawValue)")
        lines.append("partition:")
        lines.append(marked("  list: \(text(partition.list))", \.partition.list, was: text))
        let fraction = "  val-fraction: \(partition.validationFraction)"
        lines.append(marked(fraction, \.partition.validationFraction) { String($0) })
        if !partition.folders.isEmpty {
            lines.append("  folders:")
            for entry in partition.folders { lines.append("    \(quoted(entry.folder)): \(entry.split.rawValue)") }
        }
        lines.append("outputs:")
        lines.append("  prepared: \(outputs.prepared)")
        lines.append(marked("  split: \(outputs.split)", \.outputs.split) { String($0) })
        lines.append("  photo-quality: \(outputs.photoQuality)")
        if let shards = outputs.shards {
            // Marked against the file's shard settings, line by line (all new when it had none).
            let was = baseline?.outputs.shards.map(Self.shardLines)
            lines.append("  shards:" + (baseline != nil && was == nil ? "   # changed (was null)" : ""))
            for (index, line) in Self.shardLines(shards).enumerated() {
                let old = was?[index] ?? line
                let was = old.trimmingCharacters(in: .whitespaces)
                lines.append(line + (line != old ? "   # changed (was \(was))" : ""))
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
            if scalar.value < 0x20 {
                escaped += String(format: "\\x%02X", scalar.value)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
    }
    return "\"\(escaped)\""
}
