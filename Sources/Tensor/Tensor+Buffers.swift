// Pointer access for kernels. Kernels work on raw pointers inside these scopes so that the
// inner loops are plain C-like loops the optimiser can vectorise.

/// A pointer for zero-length buffers, never dereferenced.
private let emptyBufferAddress = UnsafeMutablePointer<Float>.allocate(capacity: 1)

/// Calls `body` with a pointer to `array`'s storage.
@inline(__always)
func withReadPointer<R>(_ array: [Float], _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
    try array.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(emptyBufferAddress)) }
}

/// Calls `body` with a mutable pointer to `array`'s storage.
@inline(__always)
func withWritePointer<R>(_ array: inout [Float], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    try array.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? emptyBufferAddress) }
}

/// An array of `count` floats whose every element `fill` writes (no zero-fill first).
@inline(__always)
func makeFilledArray(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        fill(buffer.baseAddress ?? emptyBufferAddress)
        initialized = count
    }
}

/// An array of `count` zeros, written by all the threads: a gradient buffer is as large as an
/// activation (84 MB per sample at GroupDNet's largest), and zeroing it (with the page faults of
/// fresh memory) on one thread left the other core idle.
func makeZeroedArray(_ count: Int) -> [Float] {
    makeFilledArray(count) { p in
        elementwiseChunks(count) { range in (p + range.lowerBound).update(repeating: 0, count: range.count) }
    }
}

extension GradientNode {
    /// The gradient of an operation's output, which `backward()` guarantees is present when a
    /// backward step runs.
    @inline(__always)
    func withOutputGradient<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try withReadPointer(grad!, body)
    }

    /// Calls `body` with a pointer to this gradient (allocated as zeros if needed) when the
    /// tensor requires one, and with nil otherwise.
    @inline(__always)
    func withOptionalGradient(_ body: (UnsafeMutablePointer<Float>?) -> Void) {
        guard requiresGrad else { body(nil); return }
        accumulateGradient { body($0.baseAddress ?? emptyBufferAddress) }
    }

    /// Accumulates into the gradient through a raw pointer (see `accumulateGradient`).
    @inline(__always)
    func accumulateGradientPointer(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        accumulateGradient { body($0.baseAddress ?? emptyBufferAddress) }
    }
}

/// Element-wise loops split across threads in chunks large enough to be worth a thread.
@inline(__always)
func elementwiseChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    parallelChunks(count, minimumPerThread: 1 << 16, body)
}
