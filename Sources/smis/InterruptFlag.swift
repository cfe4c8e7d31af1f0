import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C), SIGTERM (what Slurm, Kubernetes and `kill` send before they force a
/// stop) and SIGUSR1 or SIGUSR2 (what `mpirun` forwards to every rank untouched, and what
/// `#SBATCH --signal=USR1@120` sends ahead of a time limit) into a flag the training loop reads
/// between steps, so that the run saves a checkpoint and exits cleanly instead of dying
/// mid-step. A second signal while the checkpoint is being written is ignored; the write is
/// atomic anyway.
final class InterruptFlag: @unchecked Sendable {
    static let signals = [SIGINT, SIGTERM, SIGUSR1, SIGUSR2]
    private let lock = NSLock()
    private var caught: Int32?
    private var sources: [DispatchSourceSignal] = []
    /// Whether catching a signal is announced on standard error (rank 0 only, in a job).
    private let announces: Bool

    init(announces: Bool = true) { self.announces = announces }

    /// Starts catching the signals (their default action, termination, is disabled).
    func install() {
        for number in Self.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.raise(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func raise(_ number: Int32) {
        lock.lock()
        let first = caught == nil
        if first { caught = number }
        lock.unlock()
        if first && announces {
            let names = [SIGINT: "interrupt", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2"]
            printError("\(names[number] ?? "signal \(number)"): saving a checkpoint after the current step…")
        }
    }

    var isRaised: Bool { caughtSignal != nil }

    /// The first signal caught, if any.
    var caughtSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return caught
    }
}
