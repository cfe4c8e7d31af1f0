#if os(Linux)
// glibc's mallopt(3) from <malloc.h>, which the Glibc module does not export. Two Int32
// arguments and an Int32 result: the Swift and C calling conventions agree for this signature.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let mallocTrimThreshold: Int32 = -1   // M_TRIM_THRESHOLD
private let mallocMmapMax: Int32 = -4         // M_MMAP_MAX
#endif

/// Process-wide memory policy for large tensors.
public enum TensorMemory {
    /// Makes freed tensor memory stay in the process for reuse instead of going back to the
    /// system (Linux/glibc only; a no-op elsewhere). Call it once at the start of a training
    /// or benchmark process.
    ///
    /// Why: glibc serves every allocation above 32 MiB with a fresh `mmap` and returns it with
    /// `munmap` when freed, so each large activation (84 MB at 320×256×256) is page-faulted and
    /// zeroed by the kernel again on every forward pass. Measured on the 2-core machine: a fresh
    /// 84 MB array plus a copy took 115 ms, and 19 ms with this policy; a leaky ReLU 113 ms → 43 ms.
    /// The cost is that the process keeps its peak heap size (it does not shrink after a peak).
    public static func retainFreedMemory() {
        #if os(Linux)
        _ = glibcMallopt(mallocMmapMax, 0)              // large blocks from the heap, not mmap
        _ = glibcMallopt(mallocTrimThreshold, Int32.max) // keep the heap's top for reuse
        #endif
    }
}
