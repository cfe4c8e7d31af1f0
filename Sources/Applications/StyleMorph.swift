import GroupDNet
import ImageIO
import Tensor
import Training

extension ImageSynthesizer {
    /// The latent code a fraction `t` of the way from `start` to `end`: (1 − t)·start + t·end
    /// on the channel groups of `classes` (every class when nil), `start`'s values elsewhere.
    /// t = 0 gives `start` and t = 1 gives `end` on those groups bit for bit (the end points
    /// are copied, not computed). `t` outside 0…1 extrapolates.
    public func interpolating(
        from start: Tensor, to end: Tensor, fraction t: Float, classes: [Int]? = nil
    ) throws
        -> Tensor
    {
        try checkLatent(start, argument: "start latent")
        try checkLatent(end, argument: "end latent")
        guard t.isFinite else { throw ApplicationError.invalidArgument("fraction", reason: "\(t) is not finite") }
        var values = start.data
        let plane = start.shape[2] * start.shape[3]
        for range in try channelRanges(classes, plane: plane) {
            for index in range {
                values[index] =
                    t == 0
                    ? start.data[index] : t == 1 ? end.data[index] : (1 - t) * start.data[index] + t * end.data[index]
            }
        }
        return try Tensor(shape: start.shape, data: values)
    }

    /// `frames` latent codes from `start` to `end` at t = k / (frames − 1), k = 0 … frames − 1:
    /// the first is `start` and the last `end` (on the groups of `classes`; see
    /// ``interpolating(from:to:fraction:classes:)``). At least two frames.
    public func morphLatents(
        from start: Tensor, to end: Tensor, frames: Int, classes: [Int]? = nil
    ) throws
        -> [Tensor]
    {
        guard frames >= 2 else {
            throw ApplicationError.invalidArgument("frames", reason: "\(frames) frames; a morph needs at least 2")
        }
        return try (0..<frames).map { frame in
            try interpolating(from: start, to: end, fraction: Float(frame) / Float(frames - 1), classes: classes)
        }
    }

    /// The generator's images of ``morphLatents(from:to:frames:classes:)`` on one label map.
    public func morphImages(
        label: LabelMap, instances: InstanceMap? = nil, from start: Tensor, to end: Tensor, frames: Int,
        classes: [Int]? = nil
    ) throws -> [Image] {
        try morphLatents(from: start, to: end, frames: frames, classes: classes).map {
            try image(label: label, instances: instances, z: $0)
        }
    }

    /// The index ranges of z's data owned by `classes` (all of z when nil).
    private func channelRanges(_ classes: [Int]?, plane: Int) throws -> [Range<Int>] {
        guard let classes else { return [0..<configuration.latentChannels * plane] }
        return try classes.map { classIndex in
            try checkClass(classIndex, argument: "classes")
            let channels = configuration.latentChannels(ofClass: classIndex)
            return channels.lowerBound * plane..<channels.upperBound * plane
        }
    }
}
