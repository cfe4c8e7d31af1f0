// Instance norm and batch norm without affine parameters.
//
// Both normalise groups of values by their own mean and biased variance:
//   x̂ = (x − μ) / √(σ² + ε),  and backward  dx += (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(σ² + ε).
// Instance norm's groups are the N·C planes; batch norm's are the C channels, each made of N
// planes. So instance norm is batch norm's kernel applied as if the shape were 1×(N·C)×H×W.

/// Running statistics of a batch norm without affine parameters, as PyTorch's
/// `BatchNorm2d(C, affine=False)` keeps them (`running_mean`, `running_var`,
/// `num_batches_tracked`). Training updates them in place; evaluation normalises with them.
public final class BatchNormStatistics {
    /// Per-channel running mean, initially 0 (`running_mean`).
    public let runningMean: Tensor
    /// Per-channel running variance (unbiased), initially 1 (`running_var`).
    public let runningVariance: Tensor
    /// Training forwards seen so far (`num_batches_tracked`, an int64 in checkpoints).
    public var batchesTracked: Int64 = 0
    /// Weight of the new batch in the running averages (PyTorch's default 0.1).
    public let momentum: Float
    /// Added to the variance before the square root (PyTorch's default 1e-5).
    public let epsilon: Float
    /// Data-parallel training (the reference's `SynchronizedBatchNorm2d`): sums per-channel
    /// values over every replica of the model, in place, giving each the same totals. When
    /// set, training normalises by the mean and variance of all replicas' batches together,
    /// updates the running statistics with them, and sums the backward pass's per-channel
    /// terms likewise, so the replicas compute what one process would on the whole batch.
    /// nil (the default): this process's batch alone.
    public var replicaSum: ReplicaSum?

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        runningMean = Tensor.zeros([channels], name: "running_mean")
        runningVariance = Tensor(shape: [channels], repeating: 1, name: "running_var")
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var channels: Int { runningMean.count }
}

/// Sums a buffer of per-channel values over the replicas of a data-parallel run, in place;
/// every replica must call it at the same point with the same count, and receives the same
/// totals (see ``BatchNormStatistics/replicaSum``).
public typealias ReplicaSum = (UnsafeMutableBufferPointer<Double>) -> Void

extension Tensor {
    /// Instance normalisation without affine parameters (PyTorch's
    /// `InstanceNorm2d(C, affine=False, track_running_stats=False)`): each sample's channel
    /// plane is normalised by its own mean and biased variance. A 1×1 plane gives zeros.
    public func instanceNorm(epsilon: Float = 1e-5) throws -> Tensor {
        let (n, c, _, _) = try nchw("instanceNorm")
        return normalized(batch: 1, channels: n * c, epsilon: epsilon, updating: [])
    }

    /// Batch normalisation without affine parameters.
    ///
    /// In training, each channel is normalised by the batch's mean and biased variance over
    /// N, H, W, and `statistics` are updated in place with momentum m:
    /// `running = (1 − m)·running + m·batch`, the variance term unbiased (× count/(count − 1)),
    /// exactly as PyTorch. In evaluation the running statistics normalise and are not changed.
    /// Statistics update even inside ``withoutGradients(_:)``, as in PyTorch. With
    /// ``BatchNormStatistics/replicaSum`` set, the batch statistics are those of every
    /// replica's batch together.
    ///
    /// `twins` are other norms of the same input in training (GroupDNet's `norm_0` and `norm_s`
    /// both normalise a block's input): their x̂ would be identical, so it is computed and kept
    /// once, and each twin's running statistics get the same update as `statistics`. Evaluation
    /// normalises with `statistics` alone and leaves the twins untouched.
    public func batchNorm(
        statistics: BatchNormStatistics, twins: [BatchNormStatistics] = [], training: Bool
    ) throws -> Tensor {
        let (n, c, h, w) = try nchw("batchNorm")
        for other in [statistics] + twins
        where other.channels != c || other.momentum != statistics.momentum
            || other.epsilon != statistics.epsilon
        {
            throw TensorError.shapeMismatch(
                operation: "batchNorm",
                reason: "statistics for \(other.channels) channels (momentum \(other.momentum), ε \(other.epsilon)), "
                    + "input \(label)")
        }
        let updated = [statistics] + twins
        if training {
            guard n * h * w > 1 else {
                throw TensorError.invalidArgument(
                    operation: "batchNorm", reason: "training needs more than one value per channel, got \(label)")
            }
            if let replicaSum = statistics.replicaSum {
                return normalizedAcrossReplicas(batch: n, channels: c, updating: updated, replicaSum: replicaSum)
            }
            return normalized(batch: n, channels: c, epsilon: statistics.epsilon, updating: updated)
        }
        return normalizedWithRunningStatistics(statistics)
    }

    /// Normalises each of `channels` groups (made of `batch` planes each) by its own statistics;
    /// updates each of `updating` with them.
    private func normalized(batch: Int, channels: Int, epsilon: Float, updating: [BatchNormStatistics]) -> Tensor {
        let x = self
        let plane = count / (batch * channels)
        let groupSize = batch * plane
        var inverseDeviation = [Float](repeating: 0, count: channels)
        var means = [Float](repeating: 0, count: channels)
        var variances = [Float](repeating: 0, count: channels)
        var y = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }  // all written below
        withReadPointer(x.data) { xp in
            withWritePointer(&y) { yp in
                withWritePointer(&inverseDeviation) { inv in
                    withWritePointer(&means) { mp in
                        withWritePointer(&variances) { vp in
                            parallelChunks(channels) { range in
                                for channel in range {
                                    // Two passes: the mean, then the squared deviations from it.
                                    var total = 0.0
                                    for sample in 0..<batch {
                                        total += vectorSum(xp + (sample * channels + channel) * plane, plane)
                                    }
                                    let mean = total / Double(groupSize)
                                    var squares = 0.0
                                    for sample in 0..<batch {
                                        squares += vectorSumOfSquaredDeviations(
                                            xp + (sample * channels + channel) * plane, plane, mean: Float(mean))
                                    }
                                    let variance = squares / Double(groupSize)
                                    let scale = Float(1 / (variance + Double(epsilon)).squareRoot())
                                    let shift = Float(mean)
                                    inv[channel] = scale; mp[channel] = shift; vp[channel] = Float(variance)
                                    for sample in 0..<batch {
                                        let offset = (sample * channels + channel) * plane
                                        for i in 0..<plane { yp[offset + i] = (xp[offset + i] - shift) * scale }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for statistics in updating { statistics.update(means: means, biasedVariances: variances, count: groupSize) }
        let output = Tensor(uncheckedShape: shape, data: y)
        let xNode = x.node, xHat = y
        Tensor.record(output, inputs: [x]) { y in
            withReadPointer(xHat) { yp in
                withReadPointer(inverseDeviation) { inv in
                    // dx in dy's own buffer when x has no gradient yet (see GradientNode.moveGradient).
                    let moved = y.moveGradient(to: xNode) { dy in
                        normalizationBackward(batch, channels, plane, xHat: yp, inverseDeviation: inv, dy: dy, dx: dy)
                    }
                    if moved { return }
                    y.withOutputGradient { dy in
                        xNode.accumulateGradientPointer { dx in
                            normalizationBackward(
                                batch, channels, plane, xHat: yp, inverseDeviation: inv, dy: dy, dx: dx)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Evaluation batch norm: y = (x − running mean) / √(running var + ε), a per-channel affine map.
    private func normalizedWithRunningStatistics(_ statistics: BatchNormStatistics) -> Tensor {
        let x = self
        let (n, c) = (shape[0], shape[1])
        let plane = count / (n * c)
        let scales = statistics.runningVariance.data.map { 1 / ($0 + statistics.epsilon).squareRoot() }
        let shifts = statistics.runningMean.data
        let y = withReadPointer(x.data) { xp in
            makeFilledArray(count) { yp in
                parallelChunks(n * c) { planes in
                    for planeIndex in planes {
                        let scale = scales[planeIndex % c], shift = shifts[planeIndex % c]
                        let offset = planeIndex * plane
                        for i in 0..<plane { yp[offset + i] = (xp[offset + i] - shift) * scale }
                    }
                }
            }
        }
        let output = Tensor(uncheckedShape: shape, data: y)
        let xNode = x.node
        Tensor.record(output, inputs: [x]) { y in
            y.withOutputGradient { dy in
                xNode.accumulateGradientPointer { dx in
                    parallelChunks(n * c) { planes in
                        for planeIndex in planes {
                            let scale = scales[planeIndex % c], offset = planeIndex * plane
                            for i in 0..<plane { dx[offset + i] += dy[offset + i] * scale }
                        }
                    }
                }
            }
        }
        return output
    }
}

extension BatchNormStatistics {
    /// running = (1 − m)·running + m·batch, with the unbiased batch variance.
    func update(means: [Float], biasedVariances: [Float], count: Int) {
        let unbias = Float(count) / Float(count - 1)
        for channel in 0..<channels {
            runningMean.data[channel] = (1 - momentum) * runningMean.data[channel] + momentum * means[channel]
            runningVariance.data[channel] =
                (1 - momentum) * runningVariance.data[channel]
                + momentum * biasedVariances[channel] * unbias
        }
        batchesTracked += 1
    }
}

/// dx (+)= (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(σ² + ε) per channel, the means over the
/// channel's `batch` planes. With `dx == dy` (the gradient rewritten in place) it assigns; else
/// it adds to dx. Each channel's sums are taken before its values are written.
private func normalizationBackward(
    _ batch: Int, _ channels: Int, _ plane: Int, xHat: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
) {
    let inPlace = UnsafePointer(dx) == dy
    let groupSize = Double(batch * plane)
    parallelChunks(channels) { range in
        for channel in range {
            let (dyTotal, dyXhatTotal) = gradientMoments(batch, channels, plane, channel: channel, xHat: xHat, dy: dy)
            let dyMean = Float(dyTotal / groupSize), dyXhatMean = Float(dyXhatTotal / groupSize)
            let scale = inverseDeviation[channel]
            for sample in 0..<batch {
                let offset = (sample * channels + channel) * plane
                if inPlace {
                    for i in offset..<(offset + plane) { dx[i] = (dy[i] - dyMean - xHat[i] * dyXhatMean) * scale }
                } else {
                    for i in offset..<(offset + plane) { dx[i] += (dy[i] - dyMean - xHat[i] * dyXhatMean) * scale }
                }
            }
        }
    }
}

/// Σdy and Σdy·x̂ over one channel's `batch` planes (N × C × plane layout), in Double.
func gradientMoments(
    _ batch: Int, _ channels: Int, _ plane: Int, channel: Int, xHat: UnsafePointer<Float>, dy: UnsafePointer<Float>
) -> (dy: Double, dyXhat: Double) {
    var dyTotal = 0.0, dyXhatTotal = 0.0
    for sample in 0..<batch {
        let offset = (sample * channels + channel) * plane
        dyTotal += vectorSum(dy + offset, plane)
        dyXhatTotal += vectorDot(dy + offset, xHat + offset, plane)
    }
    return (dyTotal, dyXhatTotal)
}
