import CBLAS
import Dispatch

/// The number of threads the tensor operations use: OpenBLAS's thread count and the width of
/// the target's own parallel loops (im2col, element-wise work, reductions).
///
/// The two never run at the same time (an operation either calls sgemm or runs its own loop),
/// so setting this to the number of cores uses them all without oversubscription. The
/// default is OpenBLAS's own count, which honours `OPENBLAS_NUM_THREADS` (tests set it to 1)
/// and otherwise equals the number of cores.
public enum TensorThreads {
    nonisolated(unsafe) private static var current = max(1, Int(openblas_get_num_threads()))

    /// The thread count; setting it also sets OpenBLAS's (values below 1 become 1).
    public static var count: Int {
        get { current }
        set {
            current = max(1, newValue)
            openblas_set_num_threads(Int32(current))
        }
    }

    /// The OpenBLAS kernel family in use (e.g. `Haswell`, `Cooperlake`), chosen at process start
    /// from the CPU or from `OPENBLAS_CORETYPE`.
    public static var blasCoreName: String { String(cString: openblas_get_corename()) }
}

/// Runs `body(range)` over `0..<count` split into at most `TensorThreads.count` contiguous
/// chunks, in parallel. Chunks never overlap, so bodies may write disjoint outputs.
/// Work smaller than `minimumPerThread` items per thread runs inline on the caller.
func parallelChunks(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = min(TensorThreads.count, max(1, count / max(1, minimumPerThread)))
    if threads <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: threads) { index in
        let start = count * index / threads, end = count * (index + 1) / threads
        if start < end { body(start..<end) }
    }
}
