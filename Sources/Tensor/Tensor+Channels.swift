// Concatenation and slicing along the channel axis of NCHW tensors.

extension Tensor {
    /// Stacks NCHW tensors along channels (PyTorch's `torch.cat(tensors, dim=1)`).
    /// All must share N, H and W; throws naming the first that does not.
    public static func concatenateChannels(_ tensors: [Tensor]) throws -> Tensor {
        guard let first = tensors.first else {
            throw TensorError.invalidArgument(operation: "concatenateChannels", reason: "no tensors given")
        }
        let (n, _, h, w) = try first.nchw("concatenateChannels")
        var channelOffsets: [Int] = []
        var totalChannels = 0
        for tensor in tensors {
            let (tn, tc, th, tw) = try tensor.nchw("concatenateChannels")
            guard tn == n, th == h, tw == w else {
                throw TensorError.shapeMismatch(
                    operation: "concatenateChannels",
                    reason: "\(tensor.label) does not match N, H, W of \(first.label)")
            }
            channelOffsets.append(totalChannels)
            totalChannels += tc
        }
        let plane = h * w
        let outputSampleSize = totalChannels * plane
        var data = [Float](unsafeUninitializedCapacity: n * outputSampleSize) { _, initialized in
            initialized = n * outputSampleSize  // every channel block is copied in below
        }
        withWritePointer(&data) { yp in
            for (index, tensor) in tensors.enumerated() {
                let block = tensor.shape[1] * plane
                withReadPointer(tensor.data) { xp in
                    for sample in 0..<n {
                        (yp + sample * outputSampleSize + channelOffsets[index] * plane)
                            .update(from: xp + sample * block, count: block)
                    }
                }
            }
        }
        let output = Tensor(uncheckedShape: [n, totalChannels, h, w], data: data)
        let inputs = tensors.map { (node: $0.node, block: $0.shape[1] * plane) }
        record(output, inputs: tensors) { y in
            y.withOutputGradient { dy in
                for (index, (node, block)) in inputs.enumerated() {
                    node.accumulateGradientPointer { dx in
                        for sample in 0..<n {
                            let source = dy + sample * outputSampleSize + channelOffsets[index] * plane
                            let target = dx + sample * block
                            for i in 0..<block { target[i] += source[i] }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Channels `range` of an NCHW tensor (PyTorch's `x[:, start:end]`), as a new tensor.
    public func sliceChannels(_ range: Range<Int>) throws -> Tensor {
        let (n, c, h, w) = try nchw("sliceChannels")
        guard range.lowerBound >= 0, range.upperBound <= c, !range.isEmpty else {
            throw TensorError.invalidArgument(
                operation: "sliceChannels", reason: "channels \(range) out of 0..<\(c) for \(label)")
        }
        let x = self
        let plane = h * w, sliceChannels = range.count
        let block = sliceChannels * plane
        let data = withReadPointer(x.data) { xp in
            makeFilledArray(n * block) { yp in
                for sample in 0..<n {
                    (yp + sample * block).update(from: xp + (sample * c + range.lowerBound) * plane, count: block)
                }
            }
        }
        let output = Tensor(uncheckedShape: [n, sliceChannels, h, w], data: data)
        let xNode = x.node
        Tensor.record(output, inputs: [x]) { y in
            y.withOutputGradient { dy in
                xNode.accumulateGradientPointer { dx in
                    for sample in 0..<n {
                        let target = dx + (sample * c + range.lowerBound) * plane
                        let source = dy + sample * block
                        for i in 0..<block { target[i] += source[i] }
                    }
                }
            }
        }
        return output
    }
}
