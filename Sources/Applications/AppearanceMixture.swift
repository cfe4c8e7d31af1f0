import GroupDNet
import ImageIO
import Tensor
import Training

/// A photo with its label map (and instance map, for a model with instance edges): what the
/// encoder turns into a latent code whose class groups carry the photo's appearance.
public struct StyleExample: Sendable {
    public var photo: Image
    public var label: LabelMap
    public var instances: InstanceMap?

    public init(photo: Image, label: LabelMap, instances: InstanceMap? = nil) {
        self.photo = photo
        self.label = label
        self.instances = instances
    }
}

extension ImageSynthesizer {
    /// Appearance mixture: `z` with class `classIndex`'s channel group (channels
    /// `configuration.latentChannels(ofClass:)`, 8c…8c+7 for DeepFashion) replaced by the same
    /// channels of `donor`. Every other value is `z`'s, bit for bit, so only that class's
    /// appearance changes. Mixing several classes is mixing them one after another.
    public func mixing(_ z: Tensor, classIndex: Int, from donor: Tensor) throws -> Tensor {
        try checkLatent(z, argument: "z")
        try checkLatent(donor, argument: "donor latent")
        try checkClass(classIndex)
        let plane = z.shape[2] * z.shape[3]
        let channels = configuration.latentChannels(ofClass: classIndex)
        var values = z.data
        let range = channels.lowerBound * plane..<channels.upperBound * plane
        values.replaceSubrange(range, with: donor.data[range])
        return try Tensor(shape: z.shape, data: values)
    }

    /// Appearance mixture from a photo: encodes `style` (``encodedLatent(style:label:instances:using:)``,
    /// ε from `random`) and takes class `classIndex`'s channel group from that code.
    public func mixing(
        _ z: Tensor, classIndex: Int, style: StyleExample, using random: inout RandomSource
    ) throws -> Tensor {
        let donor = try encodedLatent(
            style: style.photo, label: style.label, instances: style.instances, using: &random)
        return try mixing(z, classIndex: classIndex, from: donor)
    }

    /// Throws unless `z` is one image's latent code for this model.
    func checkLatent(_ z: Tensor, argument: String) throws {
        let expected = configuration.latentShape(batch: 1)
        guard z.shape == expected else {
            throw ApplicationError.invalidArgument(
                argument, reason: "latent code of shape \(z.shape), the model's is \(expected)")
        }
    }

    /// Throws unless `classIndex` is one of the model's classes.
    func checkClass(_ classIndex: Int, argument: String = "class") throws {
        guard (0..<configuration.classCount).contains(classIndex) else {
            throw ApplicationError.invalidArgument(
                argument, reason: "class \(classIndex) is not in 0..<\(configuration.classCount)")
        }
    }
}
