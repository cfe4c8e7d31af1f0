import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The clocks every benchmark reads. On a shared machine wall time depends on the other
// processes, so benchmarks print rates per CPU second beside wall-clock rates: those are the
// steadier ones to compare.

/// Monotonic wall-clock seconds since an arbitrary start.
public func wallSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// CPU seconds (user + system, all threads) this process has used so far.
public func processCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// CPU seconds the calling thread has used so far.
public func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Wall and process CPU seconds of one run of `body`.
public func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    let wallStart = wallSeconds(), cpuStart = processCPUSeconds()
    try body()
    return (wallSeconds() - wallStart, processCPUSeconds() - cpuStart)
}

/// The largest resident set this process has had, in MiB (Linux reports `ru_maxrss` in KiB).
public func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
