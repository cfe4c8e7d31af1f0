import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) into a flag the training loop reads between steps, so that the run
/// saves a checkpoint and exits cleanly instead of dying mid-step. A second Ctrl-C while the
/// checkpoint is being written is ignored; the write is atomic anyway.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    private var source: DispatchSourceSignal?

    /// Starts catching SIGINT (the default action, termination, is disabled).
    func install() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock()
            self.raised = true
            self.lock.unlock()
            printError("interrupt: saving a checkpoint after the current step…")
        }
        source.resume()
        self.source = source
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}

/// Writes a line to standard error (problems and notices, kept apart from results).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
