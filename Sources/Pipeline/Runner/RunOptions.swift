import Foundation

/// Runtime choices that do not change the output.
public struct RunOptions: Sendable {
    /// Worker threads, e.g. the number of cores.
    public var jobs: Int
    /// The slice of the data set this process handles.
    public var worker: WorkerSlice
    /// Forget an earlier run in the output folder (its journals and prepared folders) instead
    /// of resuming it.
    public var restart: Bool
    /// fsync every output before renaming it into place. Off only for throw-away outputs.
    public var durable: Bool
    /// zlib level of written label PNGs (0...9). Default 1: about 4× faster than 6 on label
    /// maps for files about 1.6× larger, a few kB at 256×256 (measured, see platform.md).
    public var labelCompressionLevel: Int

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, worker: WorkerSlice = .whole,
                restart: Bool = false, durable: Bool = true, labelCompressionLevel: Int = 1) {
        self.jobs = max(1, jobs)
        self.worker = worker
        self.restart = restart
        self.durable = durable
        self.labelCompressionLevel = labelCompressionLevel
    }
}
