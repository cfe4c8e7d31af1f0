// Batch norm over the replicas of a data-parallel run (the reference's SynchronizedBatchNorm2d):
// the same kernel as `normalized` in Tensor+Normalization.swift, with its per-channel sums
// split into phases so that `replicaSum` can add every replica's sums between them.
//
// Forward, per channel c over the N·H·W values of every replica:
//   Σx (and the count) summed over replicas → μ;  Σ(x − μ)² summed → σ² (biased);
//   y = (x − μ) / √(σ² + ε);  the running statistics move with the global μ and σ².
// Backward, with each replica's dy the gradient of its own loss:
//   Σdy and Σdy·x̂ summed over replicas → their means over the global count;
//   dx += (dy − mean(dy) − x̂ · mean(dy · x̂)) / √(σ² + ε).
// So replicas whose losses are averaged compute exactly the gradient one process would on the
// whole batch, up to the order of the sums. The sums stay in Double as in the local kernel.

extension Tensor {
    /// Training batch norm with statistics summed over the replicas by `replicaSum`
    /// (N × C × H × W; each of `updating` updated in place with the global mean and variance).
    func normalizedAcrossReplicas(batch: Int, channels: Int, updating: [BatchNormStatistics],
                                  replicaSum: @escaping ReplicaSum) -> Tensor {
        let x = self
        let plane = count / (batch * channels)
        // Σx per channel, then this replica's value count in the last slot.
        var sums = perChannelSums(channels, extra: Double(batch * plane)) { channel, xp in
            var total = 0.0
            for sample in 0..<batch { total += vectorSum(xp + (sample * channels + channel) * plane, plane) }
            return total
        }
        sums.withUnsafeMutableBufferPointer { replicaSum($0) }
        let groupSize = sums[channels]
        let shifts = (0..<channels).map { Float(sums[$0] / groupSize) }
        var squares = perChannelSums(channels, extra: nil) { channel, xp in
            var total = 0.0
            for sample in 0..<batch {
                let start = xp + (sample * channels + channel) * plane
                total += vectorSumOfSquaredDeviations(start, plane, mean: shifts[channel])
            }
            return total
        }
        squares.withUnsafeMutableBufferPointer { replicaSum($0) }
        let variances = squares.map { $0 / groupSize }
        let epsilon = Double(updating[0].epsilon)
        let inverseDeviation = variances.map { Float(1 / ($0 + epsilon).squareRoot()) }
        for statistics in updating {
            statistics.update(means: shifts, biasedVariances: variances.map { Float($0) }, count: Int(groupSize))
        }
        let y = withReadPointer(x.data) { xp in
            makeFilledArray(count) { yp in
                parallelChunks(batch * channels) { planes in
                    for planeIndex in planes {
                        let channel = planeIndex % channels, offset = planeIndex * plane
                        let shift = shifts[channel], scale = inverseDeviation[channel]
                        for i in 0..<plane { yp[offset + i] = (xp[offset + i] - shift) * scale }
                    }
                }
            }
        }
        let output = Tensor(uncheckedShape: shape, data: y)
        let xNode = x.node, xHat = y
        Tensor.record(output, inputs: [x]) { y in
            // Σdy and Σdy·x̂ (y is x̂) per channel, summed over the replicas.
            var moments = [Double](repeating: 0, count: 2 * channels)
            withReadPointer(xHat) { yp in y.withOutputGradient { dy in
                moments.withUnsafeMutableBufferPointer { m in
                    parallelChunks(channels) { range in
                        for channel in range {
                            (m[2 * channel], m[2 * channel + 1]) = gradientMoments(
                                batch, channels, plane, channel: channel, xHat: yp, dy: dy)
                        }
                    }
                }
            } }
            moments.withUnsafeMutableBufferPointer { replicaSum($0) }
            withReadPointer(xHat) { yp in y.withOutputGradient { dy in xNode.accumulateGradientPointer { dx in
                parallelChunks(batch * channels) { planes in
                    for planeIndex in planes {
                        let channel = planeIndex % channels, offset = planeIndex * plane
                        let dyMean = Float(moments[2 * channel] / groupSize)
                        let dyXhatMean = Float(moments[2 * channel + 1] / groupSize)
                        let scale = inverseDeviation[channel]
                        for i in 0..<plane {
                            dx[offset + i] += (dy[offset + i] - dyMean - yp[offset + i] * dyXhatMean) * scale
                        }
                    }
                }
            } } }
        }
        return output
    }

    /// `channels` values, `value(channel, x)` each computed in parallel, then `extra` if given.
    private func perChannelSums(_ channels: Int, extra: Double?,
                                _ value: (Int, UnsafePointer<Float>) -> Double) -> [Double] {
        var sums = [Double](repeating: 0, count: channels + (extra == nil ? 0 : 1))
        withReadPointer(data) { xp in
            sums.withUnsafeMutableBufferPointer { s in
                parallelChunks(channels) { range in
                    for channel in range { s[channel] = value(channel, xp) }
                }
            }
        }
        if let extra { sums[channels] = extra }
        return sums
    }
}
