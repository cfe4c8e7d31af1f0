import AtomicFiles
import Foundation
import GroupDNet
import ImageIO
import Tensor

/// Images from label maps with a trained generator: z from N(0, I) or from the encoder on a
/// style photo, and per-class resampling of z (class c owns channels c·k … c·k + k − 1, k = 8
/// for GroupDNet), which changes that class's appearance.
public final class ImageSynthesizer {
    public let configuration: GroupDNetConfiguration
    /// Class names stored in the checkpoint (class id = position).
    public let classes: [String]
    public let generator: Generator
    public let encoder: Encoder

    /// Loads G and E from a checkpoint (a checkpoint folder, its state.json, or a run folder).
    public init(checkpoint url: URL) throws {
        let folder = try TrainingCheckpoint.resolve(url)
        let state = try TrainingCheckpoint.readState(folder)
        configuration = state.configuration
        classes = state.classes
        var unused = RandomSource(seed: 0)
        generator = try Generator(configuration, using: &unused)
        encoder = try Encoder(configuration, using: &unused)
        try generator.loadCheckpoint(from: folder.appendingPathComponent(TrainingCheckpoint.networkFiles[0]))
        try encoder.loadCheckpoint(from: folder.appendingPathComponent(TrainingCheckpoint.networkFiles[1]))
    }

    /// A synthesizer over freshly initialised G and E (the weights a training run starts from,
    /// drawn from `seed`), for tests and timings that need a model of a preset's size without
    /// training one. `classes` names the configuration's classes.
    public init(untrained configuration: GroupDNetConfiguration, classes: [String], seed: UInt64) throws {
        guard classes.count == configuration.classCount else {
            throw TrainingError.invalidInput(
                file: "classes", reason: "\(classes.count) names for \(configuration.classCount) classes")
        }
        var random = RandomSource(seed: seed)
        self.configuration = configuration
        self.classes = classes
        generator = try Generator(configuration, using: &random)
        encoder = try Encoder(configuration, using: &random)
    }

    /// A synthesizer over a live model's G and E (sharing their weights), for the images a
    /// training run shows while it trains.
    init(model: GroupDNetModel, classes: [String]) {
        configuration = model.configuration
        self.classes = classes
        generator = model.generator
        encoder = model.encoder
    }

    /// The class id named `name` (a class name of the checkpoint, or a number); errors name
    /// `argument`, the option or field the name came from.
    public func classIndex(named name: String, argument: String = "--resample-class") throws -> Int {
        if let index = classes.firstIndex(of: name) { return index }
        if let index = Int(name), (0..<configuration.classCount).contains(index) { return index }
        throw TrainingError.invalidInput(
            file: argument, reason: "\(name) is not a class; the classes are \(classes.joined(separator: ", "))")
    }

    /// Reads a label map (ids 0..<classes) and checks its size and values; `path` is named in
    /// errors. With `resize`, a map of another size is resampled (nearest) to the model's.
    /// Values are checked in the map as read, before any resize, so that a pixel the resize
    /// would skip is still found and its position is the file's.
    public func labelMap(contentsOfFile path: String, resize: Bool = false) throws -> LabelMap {
        var label = try LabelMap(contentsOfFile: path)
        if let index = label.values.firstIndex(where: { Int($0) >= configuration.classCount }) {
            throw TrainingError.invalidInput(
                file: path,
                reason: "pixel (x \(index % label.width), y \(index / label.width)) has class \(label.values[index]), "
                    + "not below \(configuration.classCount)")
        }
        if resize { label = label.resized(width: configuration.imageWidth, height: configuration.imageHeight) }
        try checkModelSize(width: label.width, height: label.height, of: "label map", file: path)
        return label
    }

    /// z ~ N(0, I) for one image.
    public func randomLatent(using random: inout RandomSource) -> Tensor {
        Tensor.randomNormal(configuration.latentShape(batch: 1), using: &random)
    }

    /// z from the encoder (evaluation mode) on a style photo and its label map:
    /// mu + ε·exp(logvar/2), ε from `random`, as the reference's inference with an image.
    /// `instances`: the label map's instance map, for a model with instance edges (Cityscapes).
    public func encodedLatent(
        style: Image, label: LabelMap, instances: InstanceMap? = nil, using random: inout RandomSource
    ) throws -> Tensor {
        var style = style
        if style.width != configuration.imageWidth || style.height != configuration.imageHeight,
            label.width == configuration.imageWidth,
            label.height == configuration.imageHeight
        {
            style = style.resized(width: label.width, height: label.height)
        }
        guard style.width == label.width, style.height == label.height,
            style.width == configuration.imageWidth, style.height == configuration.imageHeight
        else {
            throw TrainingError.invalidInput(
                file: "--style-image",
                reason: "photo \(style.width)×\(style.height) and label \(label.width)×\(label.height) must both be "
                    + "\(configuration.imageWidth)×\(configuration.imageHeight)")
        }
        let batch = try TrainingBatch(
            seg: seg(label, instances),
            image: ModelInput.image(rgb: style.pixels, batch: 1, height: style.height, width: style.width),
            classes: configuration.classCount)
        return try Tensor.withoutGradients {
            let (mu, logVariance) = try encoder(batch.splitImage, training: false)
            return try Encoder.reparameterize(mu: mu, logVariance: logVariance, epsilon: randomLatent(using: &random))
        }
    }

    /// `z` with class `classIndex`'s channels replaced by fresh N(0, 1) samples; every other
    /// value is copied unchanged.
    public func resampling(_ z: Tensor, classIndex: Int, using random: inout RandomSource) throws -> Tensor {
        let perClass = configuration.latentChannelsPerClass
        let plane = z.shape[2] * z.shape[3]
        var values = z.data
        for channel in classIndex * perClass..<(classIndex + 1) * perClass {
            for index in channel * plane..<(channel + 1) * plane { values[index] = random.normal() }
        }
        return try Tensor(shape: z.shape, data: values)
    }

    /// The generator's image (evaluation mode) for a label map (with its instance map, for a
    /// model with instance edges) and z.
    public func image(label: LabelMap, instances: InstanceMap? = nil, z: Tensor) throws -> Image {
        let output = try Tensor.withoutGradients { try generator(seg: seg(label, instances), z: z, training: false) }
        let plane = label.width * label.height
        var pixels = [UInt8](repeating: 0, count: plane * 3)
        for pixel in 0..<plane {
            for channel in 0..<3 {
                let value = (output.data[channel * plane + pixel] + 1) * 127.5
                pixels[pixel * 3 + channel] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        return Image(width: label.width, height: label.height, pixels: pixels)
    }

    /// A model with instance edges needs `instances` (of the label's size).
    private func seg(_ label: LabelMap, _ instances: InstanceMap?) throws -> Tensor {
        if let instances, instances.width != label.width || instances.height != label.height {
            throw TrainingError.invalidInput(
                file: "--instances",
                reason: "instance map is \(instances.width)×\(instances.height), label map "
                    + "\(label.width)×\(label.height)")
        }
        return try ModelInput.seg(
            labels: label.values, instances: instances?.values, batch: 1, height: label.height, width: label.width,
            configuration: configuration)
    }

    /// Reads an instance map (16-bit ids) for a label map of the model's size; with `resize`,
    /// one of another size is resampled (nearest) as the label map is.
    public func instanceMap(contentsOfFile path: String, resize: Bool = false) throws -> InstanceMap {
        var map = try InstanceMap(contentsOfFile: path)
        if resize { map = map.resized(width: configuration.imageWidth, height: configuration.imageHeight) }
        try checkModelSize(width: map.width, height: map.height, of: "instance map", file: path)
        return map
    }

    /// Throws unless a map read from `file` has the model's size.
    private func checkModelSize(width: Int, height: Int, of what: String, file: String) throws {
        guard width == configuration.imageWidth, height == configuration.imageHeight else {
            throw TrainingError.invalidInput(
                file: file,
                reason: "\(what) is \(width)×\(height), the model makes "
                    + "\(configuration.imageWidth)×\(configuration.imageHeight) (--resize resamples it)")
        }
    }

    /// Writes `image` as a PNG atomically.
    public static func writePNG(_ image: Image, to url: URL) throws {
        try AtomicFileWriter.write(image.encodedPNG(), to: url.path)
    }
}

/// Sets the process's convolution precision (`--precision` of `smis train` and `smis generate`),
/// refusing bf16 with a sentence on a CPU without AVX512-BF16.
public func applyPrecision(_ precision: ConvolutionPrecision) throws {
    do {
        try ConvolutionSettings.setPrecision(precision)
    } catch TensorError.invalidArgument(_, let reason) {
        throw TrainingError.invalidInput(file: "--precision \(precision.rawValue)", reason: reason)
    }
}
