import Applications
import ArgumentParser
import Foundation
import ImageIO
import Tensor
import Training

/// `smis generate`: images from label maps with a trained checkpoint.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Synthesise images from label maps with a trained GroupDNet checkpoint.",
        discussion: """
            For each label map (a PNG of class ids 0…G−1 at the model's size) writes OUT/<name>.png \
            from z ~ N(0, I), or from the encoder when --style-image and --style-label are given. \
            With --resample-class, writes OUT/<name>-<class>-<k>.png for k = 1…--samples instead: \
            only that class's latent channels (8c…8c+7 of z) are drawn again for each. A model with \
            instance edges (cityscapes) also needs each label map's instance map (16-bit ids, \
            smisprep's train_instance/ and test_instance/): --instances, in the order of --labels.

            Appearance mixture: each --mix CLASS=PHOTO:LABEL replaces CLASS's latent channels with \
            those the encoder gives for that photo and its label map (repeatable, applied in order). \
            Semantic manipulation: with --relabel FROM=TO (repeatable; all applied at once, so a=b \
            b=a swaps) or --edited-label PNG (your edit of the one --labels map), also writes \
            OUT/<name>-edited.png from the edited map with the same z, and for --relabel the edited \
            map itself as OUT/<name>-edited-label.png, ready to edit further.
            """)

    @Option(
        help: ArgumentHelp(
            "A checkpoint folder, its state.json, or a run folder (its latest checkpoint).", valueName: "path"))
    var checkpoint: String

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Label map PNGs with class ids 0…G−1.", valueName: "png"))
    var labels: [String]

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Instance maps of the label maps, in their order (models with instance edges).",
            valueName: "png"))
    var instances: [String] = []

    @Option(help: ArgumentHelp("The instance map of --style-label (models with instance edges).", valueName: "png"))
    var styleInstances: String?

    @Option(name: .customLong("out"), help: ArgumentHelp("Folder to write the images into.", valueName: "dir"))
    var outputDirectory: String

    @Option(
        help: ArgumentHelp("Class (name or id) whose latent code is resampled for each sample.", valueName: "class"))
    var resampleClass: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Images per label map with --resample-class (default: 4).", valueName: "k"))
    var samples: Int?

    @Option(
        help: ArgumentHelp(
            "A photo whose appearance gives z through the encoder (needs --style-label).", valueName: "photo"))
    var styleImage: String?

    @Option(help: ArgumentHelp("The label map of --style-image.", valueName: "png"))
    var styleLabel: String?

    @Option(
        help: ArgumentHelp(
            "Take CLASS's appearance from PHOTO (with its label map LABEL) through the encoder; repeatable.",
            valueName: "class=photo:label"))
    var mix: [String] = []

    @Option(
        help: ArgumentHelp(
            "Also generate from the label map with class FROM relabelled TO, keeping z; repeatable.",
            valueName: "from=to"))
    var relabel: [String] = []

    @Option(
        help: ArgumentHelp(
            "Also generate from this edited copy of the --labels map, keeping z.", valueName: "png"))
    var editedLabel: String?

    @Flag(help: "Resample label maps (nearest) and the style photo of another size to the model's size.")
    var resize = false

    @Option(help: ArgumentHelp(
        "float32 (default) or bf16: the convolutions' products in bfloat16 (a CPU with AVX512-BF16).", valueName: "p"))
    var precision: ConvolutionPrecision?

    @Option(parsing: .unconditional, help: "Seed of z and of the resampled codes.")
    var seed: UInt64 = 0

    func validate() throws {
        if labels.isEmpty { throw ValidationError("Give at least one label map with --labels.") }
        if (styleImage == nil) != (styleLabel == nil) {
            throw ValidationError("Give --style-image and --style-label together.")
        }
        if !instances.isEmpty && instances.count != labels.count {
            throw ValidationError("Give one --instances map per --labels map (\(instances.count) for \(labels.count)).")
        }
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1.") }
        if samples != nil && resampleClass == nil { throw ValidationError("--samples needs --resample-class.") }
        _ = try mix.map(MixArgument.init(parsing:))
        if editedLabel != nil && !relabel.isEmpty {
            throw ValidationError("Give --relabel or --edited-label, not both.")
        }
        if editedLabel != nil && labels.count != 1 {
            throw ValidationError("--edited-label edits one map: give exactly one --labels.")
        }
        if (editedLabel != nil || !relabel.isEmpty) && resampleClass != nil {
            throw ValidationError("--relabel and --edited-label do not combine with --resample-class.")
        }
        // Outputs are named after the label map's stem: two maps of one stem would overwrite.
        let byStem = Dictionary(grouping: labels) { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        if let (stem, paths) = byStem.filter({ $0.value.count > 1 }).min(by: { $0.key < $1.key }) {
            throw ValidationError(
                "--labels \(paths.joined(separator: " and ")) would both write \(stem)*.png; rename one.")
        }
    }

    func run() throws {
        TensorMemory.retainFreedMemory()
        try reportingErrors {
            if let precision { try applyPrecision(precision) }
            let synthesizer = try ImageSynthesizer(checkpoint: URL(fileURLWithPath: checkpoint))
            let resampled = try resampleClass.map { try synthesizer.classIndex(named: $0) }
            let mixes = try mix.map(MixArgument.init(parsing:))
            let changes = try relabel.map { try synthesizer.relabeling(parsing: $0) }
            let needsInstances = synthesizer.configuration.hasInstanceEdges
            if !mixes.isEmpty || !changes.isEmpty || editedLabel != nil {
                try refuseInstanceEdges(synthesizer, "--mix, --relabel or --edited-label")
            }
            if needsInstances && (instances.isEmpty || (styleLabel != nil && styleInstances == nil)) {
                throw ValidationError(
                    "The checkpoint's model takes instance edges: give --instances (one per --labels)"
                        + (styleLabel != nil ? " and --style-instances." : "."))
            }
            let output = try outputFolder(outputDirectory)
            var random = RandomSource(seed: seed)
            var written = 0
            for (number, path) in labels.enumerated() {
                let label = try synthesizer.labelMap(contentsOfFile: path, resize: resize)
                let ids =
                    needsInstances
                    ? try synthesizer.instanceMap(contentsOfFile: instances[number], resize: resize) : nil
                let z = try mixing(mixes, into: latent(synthesizer, using: &random), synthesizer, using: &random)
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let names = (stem: stem, folder: output)
                if let resampled {
                    written += try writeResamples(
                        of: resampled, label: label, instances: ids, z: z, names, synthesizer, using: &random)
                } else {
                    written += try writeWithEdit(label, instances: ids, z: z, changes: changes, names, synthesizer)
                }
            }
            print("\(written) images → \(output.path)")
        }
    }

    private func latent(_ synthesizer: ImageSynthesizer, using random: inout RandomSource) throws -> Tensor {
        guard let styleImage, let styleLabel else { return synthesizer.randomLatent(using: &random) }
        let photo = try Image(contentsOfFile: styleImage)
        let ids = try styleInstances.map { try synthesizer.instanceMap(contentsOfFile: $0, resize: resize) }
        return try synthesizer.encodedLatent(
            style: photo, label: synthesizer.labelMap(contentsOfFile: styleLabel, resize: resize), instances: ids,
            using: &random)
    }

    /// `z` with each --mix class's channels from its photo's encoding, in the order given.
    private func mixing(
        _ mixes: [MixArgument], into z: Tensor, _ synthesizer: ImageSynthesizer, using random: inout RandomSource
    ) throws -> Tensor {
        var mixed = z
        for mix in mixes {
            let classIndex = try synthesizer.classIndex(named: mix.className, argument: "--mix")
            let style = try mix.style.read(with: synthesizer, resize: resize)
            mixed = try synthesizer.mixing(mixed, classIndex: classIndex, style: style, using: &random)
        }
        return mixed
    }

    /// OUT/<stem>.png, and with an edit OUT/<stem>-edited.png from the same z (and for
    /// --relabel the edited map); returns the number of images written. The edit is read and
    /// checked first, so that a bad one leaves no image behind.
    private func writeWithEdit(
        _ label: LabelMap, instances: InstanceMap?, z: Tensor, changes: [Relabeling],
        _ names: (stem: String, folder: URL),
        _ synthesizer: ImageSynthesizer
    ) throws -> Int {
        let edited = try editedMap(of: label, changes: changes, synthesizer)
        let image = try synthesizer.image(label: label, instances: instances, z: z)
        try writeImage(image, to: names.folder.appendingPathComponent("\(names.stem).png"))
        guard let edited else { return 1 }
        if editedLabel == nil {
            try writeFile(
                synthesizer.labelPNG(edited), to: names.folder.appendingPathComponent("\(names.stem)-edited-label.png"))
        }
        try writeImage(
            synthesizer.image(label: edited, z: z), to: names.folder.appendingPathComponent("\(names.stem)-edited.png"))
        return 2
    }

    /// OUT/<stem>-<class>-<k>.png for k = 1…--samples, each with the class's channels drawn again.
    private func writeResamples(
        of classIndex: Int, label: LabelMap, instances: InstanceMap?, z: Tensor, _ names: (stem: String, folder: URL),
        _ synthesizer: ImageSynthesizer, using random: inout RandomSource
    ) throws -> Int {
        let count = samples ?? 4
        for sample in 1...count {
            let code = try synthesizer.resampling(z, classIndex: classIndex, using: &random)
            let name = "\(names.stem)-\(synthesizer.classes[safe: classIndex] ?? String(classIndex))-\(sample).png"
            try writeImage(
                synthesizer.image(label: label, instances: instances, z: code),
                to: names.folder.appendingPathComponent(name))
        }
        return count
    }

    /// The map --edited-label or --relabel makes of `label` (nil without either), checked.
    private func editedMap(
        of label: LabelMap, changes: [Relabeling], _ synthesizer: ImageSynthesizer
    ) throws -> LabelMap? {
        if let editedLabel {
            let edited = try synthesizer.labelMap(contentsOfFile: editedLabel, resize: resize)
            try synthesizer.checkEdited(edited, matches: label, file: editedLabel)
            return edited
        }
        return changes.isEmpty ? nil : try synthesizer.relabeled(label, changes)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
