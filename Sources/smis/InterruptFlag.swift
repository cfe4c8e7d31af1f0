import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes and `kill` send before they
/// force a stop) into a flag the training loop reads between steps, so that the run saves a
/// checkpoint and exits cleanly instead of dying mid-step. A second signal while the
/// checkpoint is being written is ignored; the write is atomic anyway.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var caught: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Starts catching the signals (their default action, termination, is disabled).
    func install() {
        for number in [SIGINT, SIGTERM] {
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
        if first {
            let name = number == SIGINT ? "interrupt" : "SIGTERM"
            printError("\(name): saving a checkpoint after the current step…")
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
