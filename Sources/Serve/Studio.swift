import Applications
import Foundation
import GroupDNet
import ImageIO
import Records
import Tensor
import Training

/// What a page gets back after each action: the new image, the label map it was made from (one
/// class id a byte, rows top to bottom, base64), and how long the model took and the request
/// waited for it.
struct ActionReply: Encodable {
    var request: Int
    /// The generated image as a base64 PNG.
    var image: String
    var label: String
    var width: Int
    var height: Int
    var milliseconds = 0.0
    var waitedMilliseconds = 0.0
}

/// The model and the label maps, owned by the inference queue's worker thread: every method
/// here runs there, one at a time. The checkpoint and the shards are read, never written.
final class Studio {
    let synthesizer: ImageSynthesizer
    /// The split whose records the page offers by index (validation, else train), if any.
    let records: ShardSet?
    let split: String?
    var configuration: GroupDNetConfiguration { synthesizer.configuration }

    init(checkpoint: URL, shards: URL?) throws {
        synthesizer = try ImageSynthesizer(checkpoint: checkpoint)
        guard let shards else { (records, split) = (nil, nil); return }
        let validation = try ShardSet(directory: shards, split: "validation")
        (records, split) =
            validation.count > 0
            ? (validation, "validation") : (try ShardSet(directory: shards, split: "train"), "train")
    }

    var recordCount: Int { records?.count ?? 0 }

    /// Record `index`'s label map at the model's size (nearest resize), its values checked.
    func labelMap(ofRecord index: Int) throws -> LabelMap { try example(ofRecord: index).label }

    /// Record `index`'s photo and label map at the model's size (photo bicubic, label nearest).
    private func example(ofRecord index: Int) throws -> (photo: Image, label: LabelMap) {
        guard let records, (0..<records.count).contains(index) else {
            throw ServeError(
                .badRequest, "There is no record \(index); the \(split ?? "shard") split has \(recordCount).")
        }
        let (photo, label) = try records.segmentationRecord(at: index).decoded()
        let width = configuration.imageWidth, height = configuration.imageHeight
        return (
            photo.width == width && photo.height == height ? photo : photo.resized(width: width, height: height),
            try checked(label, source: "record \(index) of the \(split ?? "") split")
        )
    }

    /// `label` with every value a class of the model, resized (nearest) to the model's size.
    func checked(_ label: LabelMap, source: String) throws -> LabelMap {
        if let index = label.values.firstIndex(where: { Int($0) >= configuration.classCount }) {
            throw ServeError(
                .badRequest,
                "The \(source) has class \(label.values[index]) at "
                    + "(x \(index % label.width), y \(index / label.width)); "
                    + "the model's classes are 0…\(configuration.classCount - 1).")
        }
        guard label.width != configuration.imageWidth || label.height != configuration.imageHeight else { return label }
        return label.resized(width: configuration.imageWidth, height: configuration.imageHeight)
    }

    // MARK: Actions (each leaves the new state in `state` and answers with the new image)

    /// A label map from the shards, keeping the page's z (drawing one for a new page).
    func chooseRecord(_ index: Int, _ state: inout PageState, request: Int) throws -> ActionReply {
        state.label = try labelMap(ofRecord: index)
        return try reply(&state, request: request)
    }

    /// An edited or uploaded label map with the page's z kept: semantic manipulation.
    func setLabel(_ label: LabelMap, _ state: inout PageState, request: Int) throws -> ActionReply {
        state.label = label
        return try reply(&state, request: request)
    }

    /// Class `classIndex`'s part of z drawn afresh: a new appearance of that class alone.
    func resample(_ classIndex: Int, _ state: inout PageState, request: Int) throws -> ActionReply {
        let z = try latent(&state)
        state.z = try synthesizer.resampling(z, classIndex: classIndex, using: &state.random).data
        state.morph = nil
        return try reply(&state, request: request)
    }

    /// Where a mixture's appearance comes from: an uploaded photo (read with the page's label
    /// map, so it should show a person in about the same pose) or a record's photo and its own
    /// label map (the paper's mixture: another person's photo and parsing).
    enum Style {
        case photo(Image)
        case record(Int)
    }

    /// Appearance mixture (Applications): the classes `classes` (all when empty) take their part
    /// of z from the encoder on the style; the other classes keep theirs.
    func mix(_ style: Style, classes: [Int], _ state: inout PageState, request: Int) throws -> ActionReply {
        let (photo, label): (Image, LabelMap)
        switch style {
        case .photo(let image): (photo, label) = (image, try currentLabel(state))
        case .record(let index): (photo, label) = try example(ofRecord: index)
        }
        var z = try latent(&state)
        let donor = try synthesizer.encodedLatent(style: photo, label: label, using: &state.random)
        for classIndex in classes.isEmpty ? Array(0..<configuration.classCount) : classes {
            z = try synthesizer.mixing(z, classIndex: classIndex, from: donor)
        }
        state.z = z.data
        state.morph = nil
        return try reply(&state, request: request)
    }

    /// Style morphing (Applications): z at `t` of the way from the morph's start to its end (a
    /// fresh draw when the morph begins), for the classes `classes` (all when empty).
    func morph(to t: Float, classes: [Int], _ state: inout PageState, request: Int) throws -> ActionReply {
        let z = try latent(&state)
        let ends = state.morph ?? PageState.Morph(from: z.data, to: synthesizer.randomLatent(using: &state.random).data)
        let shape = configuration.latentShape(batch: 1)
        let between = try synthesizer.interpolating(
            from: Tensor(shape: shape, data: ends.from), to: Tensor(shape: shape, data: ends.to), fraction: t,
            classes: classes.isEmpty ? nil : classes)
        state.z = between.data
        state.morph = ends
        return try reply(&state, request: request)
    }

    // MARK: Helpers

    private func currentLabel(_ state: PageState) throws -> LabelMap {
        guard let label = state.label else {
            throw ServeError(
                .badRequest, "This page has no label map yet; choose a record or upload a label map first.")
        }
        return label
    }

    /// The page's z as a tensor, drawn from N(0, I) the first time.
    private func latent(_ state: inout PageState) throws -> Tensor {
        let shape = configuration.latentShape(batch: 1)
        guard let values = state.z else {
            let z = synthesizer.randomLatent(using: &state.random)
            state.z = z.data
            return z
        }
        return try Tensor(shape: shape, data: values)
    }

    private func reply(_ state: inout PageState, request: Int) throws -> ActionReply {
        let label = try currentLabel(state)
        let image = try synthesizer.image(label: label, z: latent(&state))
        return try ActionReply(
            request: request, image: Data(image.encodedPNG(compressionLevel: 1)).base64EncodedString(),
            label: Data(label.values).base64EncodedString(), width: label.width, height: label.height)
    }
}
