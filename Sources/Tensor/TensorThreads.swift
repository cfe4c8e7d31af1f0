import CBLAS
import Dispatch
import Foundation

/// The number of threads the tensor operations use.
///
/// All parallelism is the target's own: `DispatchQueue.concurrentPerform` over independent
/// tasks (convolution row chunks, groups and channel blocks; element ranges; channels), and
/// OpenBLAS runs single-threaded inside those tasks. One pool of `count` workers therefore
/// does everything, and nothing oversubscribes the cores: OpenBLAS's own threads, which spin
/// for a while after each call, would otherwise compete with the target's loops, and measured
/// heavy system time and lost throughput when they did.
///
/// The default is `TENSOR_THREADS` from the environment, else `OPENBLAS_NUM_THREADS` (the
/// tests set 1), else the number of active cores.
public enum TensorThreads {
    nonisolated(unsafe) private static var current: Int = {
        openblas_set_num_threads(1)
        let environment = ProcessInfo.processInfo.environment
        let configured =
            environment["TENSOR_THREADS"].flatMap(Int.init)
            ?? environment["OPENBLAS_NUM_THREADS"].flatMap(Int.init)
        return max(1, configured ?? ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The thread count (values below 1 become 1).
    public static var count: Int {
        get { current }
        set { current = max(1, newValue); openblas_set_num_threads(1) }
    }

    /// The OpenBLAS kernel family in use (e.g. `Haswell`, `Zen`, `Cooperlake`), chosen at
    /// process start from the CPU or from `OPENBLAS_CORETYPE`.
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

/// Runs `body(task, scratch)` for every task in `0..<count` on up to `TensorThreads.count`
/// workers, each with its own scratch buffer of `scratchCount` floats (its contents left by the
/// worker's previous task). Each worker takes the next task as it finishes one, so tasks of
/// uneven cost (a convolution group whose class covers more of the image) keep both cores
/// busy; tasks must write disjoint outputs, and then the results do not depend on which worker
/// ran which task.
func parallelTasks(_ count: Int, scratchCount: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
    guard count > 0 else { return }
    let workers = min(TensorThreads.count, count)
    let queue = TaskQueue(count: count)
    withoutActuallyEscaping(body) { body in
        let work = { (_: Int) in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratchCount))
            defer { scratch.deallocate() }
            while let task = queue.next() { body(task, scratch) }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    }
}

/// The task numbers 0..<count, handed out in order to whichever worker asks.
private final class TaskQueue: @unchecked Sendable {
    private let count: Int
    private var taken = 0
    private let lock = NSLock()

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }
}
