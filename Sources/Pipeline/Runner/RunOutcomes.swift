import Foundation

/// Where the outcome of every paired sample ends, once it is final: journaled by the committer
/// (`SampleCommitter`), or dropped for a file that could not be read (not journaled, so that a
/// re-run tries it again). Each outcome goes straight into the report's counts and dropped
/// samples and into the progress snapshot, under one lock, and the snapshot goes on to the
/// progress callback. Data flows one way: worker → committer → journal → here → report.
final class RunOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private let deliveryLock = NSLock()
    /// The outcomes as report counts (kept, per side, dropped, by reason) and dropped samples:
    /// those of earlier runs, then this run's as they become final.
    private var outcomes: RunReport
    private var state: RunProgress
    private let started = Date()
    private let progress: (@Sendable (RunProgress) -> Void)?

    /// - Parameters:
    ///   - earlier: the outcomes an earlier run journaled (as `RunReport.add(_:)` tallies them).
    ///   - resumed: how many samples that is.
    ///   - total: photos in this slice, for the progress (0 when not counted).
    ///   - progress: called after every outcome, one call at a time.
    init(earlier: RunReport, resumed: Int, total: Int, progress: (@Sendable (RunProgress) -> Void)?) {
        outcomes = earlier
        state = RunProgress(
            total: total, resumed: resumed, processed: 0, kept: 0, dropped: 0, elapsed: 0, finished: false)
        self.progress = progress
    }

    /// A sample the committer has journaled (its files are in place and on disk).
    func journaled(_ entry: JournalEntry) {
        record(kept: entry.split != nil) { outcomes in outcomes.add(entry) }
    }

    /// A sample dropped for a file that could not be read; the journal does not list it.
    func droppedUnjournaled(_ sample: DroppedSample) {
        record(kept: false) { outcomes in outcomes.addDropped(sample) }
    }

    /// Ends the run's progress (the last snapshot, `finished`) and returns the outcomes and
    /// how many samples this run processed.
    func finish() -> (outcomes: RunReport, processed: Int) {
        lock.lock()
        state.finished = true
        state.elapsed = Date().timeIntervalSince(started)
        let (snapshot, outcomes) = (state, self.outcomes)
        lock.unlock()
        deliver(snapshot)
        return (outcomes, snapshot.processed)
    }

    private func record(kept: Bool, _ add: (inout RunReport) -> Void) {
        lock.lock()
        add(&outcomes)
        state.processed += 1
        if kept { state.kept += 1 } else { state.dropped += 1 }
        state.elapsed = Date().timeIntervalSince(started)
        let snapshot = state
        lock.unlock()
        deliver(snapshot)
    }

    /// Hands a snapshot to the progress callback, one call at a time and outside the state
    /// lock, so the callback may call `PipelineRunner.cancel()`. Snapshots are taken in order
    /// under the state lock, but two threads may deliver theirs in swapped order; `finished`
    /// comes last.
    private func deliver(_ snapshot: RunProgress) {
        guard let progress else { return }
        deliveryLock.lock()
        progress(snapshot)
        deliveryLock.unlock()
    }
}
