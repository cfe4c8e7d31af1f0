#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deterministic fault points, for the tests that check what a run leaves behind when the disk
/// fills up or the process is killed, and that the rerun recovers exactly. Inert unless the
/// environment says otherwise: without `SMIS_FAULT` every call is one load of a constant.
///
/// `SMIS_FAULT` holds comma-separated `ACTION:POINT:N` entries:
/// - `kill:POINT:N`: at the Nth event of POINT the process sends itself SIGKILL, as `kill -9`
///   would: no clean-up runs, buffered output is lost.
/// - `enospc:POINT:N`: the Nth event and every later one fail with ENOSPC, as a full disk
///   does, until the process ends (the rerun without the variable has the space back).
/// - `stop:POINT:N`: at the Nth event the process stops itself with SIGSTOP, as Ctrl-Z would,
///   all threads at once; a test that waits for the stop (`waitpid` with `WUNTRACED`) can then
///   change files under the process at exactly that moment (truncate a shard it reads) and
///   continue it with SIGCONT.
///
/// Points (counted over the whole process, all threads):
/// - `write`: every write of a file's bytes (`AtomicFileWriter.write`, the pipeline's run
///   journal, the training metrics and event files), counted before the bytes are written;
/// - `commit`: every `AtomicFileWriter` rename of a finished temporary over its final name,
///   counted before the rename;
/// - `step`: every finished training step, counted before its metrics are written.
public enum FaultPoint: String, CaseIterable, Sendable {
    case write, commit, step

    /// Counts one event at this point. Returns nil to go on, or the `errno` the operation must
    /// fail with (ENOSPC); never returns when the plan kills the process here.
    public func reached() -> Int32? {
        guard let plan = FaultPlan.current, let rule = plan.rules[self] else { return nil }
        let count = plan.count(self)
        switch rule.action {
        case .kill where count == rule.event:
            kill(getpid(), SIGKILL)
            while true { pause() }
        case .stop where count == rule.event:
            kill(getpid(), SIGSTOP)  // returns once continued
            return nil
        case .diskFull where count >= rule.event:
            return ENOSPC
        default:
            return nil
        }
    }
}

/// What `SMIS_FAULT` asks for, parsed once, and the events counted so far.
final class FaultPlan: @unchecked Sendable {
    enum Action: String { case kill, diskFull = "enospc", stop }
    struct Rule { var action: Action; var event: Int }

    static let variable = "SMIS_FAULT"
    /// nil unless `SMIS_FAULT` is set to a plan that parses (a malformed one injects nothing,
    /// which the test that set it then notices: its fault never happens).
    static let current: FaultPlan? = getenv(variable).flatMap { FaultPlan(parsing: String(cString: $0)) }

    let rules: [FaultPoint: Rule]
    private var counts: [FaultPoint: Int] = [:]
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    init?(parsing text: String) {
        var rules: [FaultPoint: Rule] = [:]
        for entry in text.split(separator: ",") {
            let fields = entry.split(separator: ":").map(String.init)
            guard fields.count == 3, let action = Action(rawValue: fields[0]),
                let point = FaultPoint(rawValue: fields[1]),
                let event = Int(fields[2]), event >= 1
            else { return nil }
            rules[point] = Rule(action: action, event: event)
        }
        self.rules = rules
    }

    /// The number of this event at `point`, 1 for the first.
    func count(_ point: FaultPoint) -> Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        counts[point, default: 0] += 1
        return counts[point]!
    }
}
