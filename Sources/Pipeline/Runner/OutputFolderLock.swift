import Foundation

/// An exclusive `flock` on `OUT/.lock-worker-I-of-N` for the length of a run, so that two
/// runs of one worker slice (a requeued Slurm task beside the original, a command started
/// twice) cannot both write and journal the same samples. Other slices take other files, so
/// N workers can still share one output folder. The kernel drops the lock when the process
/// ends, however it ends, so a crash never leaves the folder locked.
final class OutputFolderLock {
    private var descriptor: Int32

    /// Creates the output folder when needed and takes the lock; throws
    /// `PipelineRunError.outputBusy` when another process holds it.
    init(output: String, slice: WorkerSlice) throws {
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
            throw PipelineRunError.writeFailed("\(output): \(error.localizedDescription)")
        }
        let path = output + "/.lock-worker-\(slice.index)-of-\(slice.count)"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineRunError.writeFailed("\(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let message = String(cString: strerror(errno))
            close(descriptor)
            descriptor = -1
            throw busy
                ? PipelineRunError.outputBusy(output: output) : PipelineRunError.writeFailed("\(path): \(message)")
        }
    }

    /// Releases the lock (the file stays: removing it could let a third run lock a new file
    /// while a second still waits on the old one).
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
