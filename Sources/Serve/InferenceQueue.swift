import Foundation

/// The one thread that runs the model, and the bounded line of requests waiting for it.
///
/// HTTP handlers never run the model: they hand a job to `submit` and await its answer, so the
/// event loop keeps answering (the page, `/api/status`, refusals) while an image is computed.
/// At most `capacity` jobs wait while one runs; one more is refused at once with 503. A request
/// carries its page's request number: a newer number from the same page supersedes the older
/// one, which answers 409 (a waiting one at once and without running, a running one when it
/// finishes, with its result dropped and the page's state unchanged).
final class InferenceQueue<Worker>: @unchecked Sendable {
    /// A job's work, on the worker thread: the page's state in, the new state and the reply out.
    typealias Work = (Worker, inout PageState) throws -> ActionReply

    private final class Job {
        let session: PageSession
        let request: Int
        let work: Work
        let submitted = DispatchTime.now()
        let continuation: CheckedContinuation<ActionReply, Error>
        init(
            _ session: PageSession, _ request: Int, _ work: @escaping Work,
            _ continuation: CheckedContinuation<ActionReply, Error>
        ) {
            (self.session, self.request, self.work, self.continuation) = (session, request, work, continuation)
        }
    }

    let capacity: Int
    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var running: Job?
    private var stopped = false
    private var thread: Thread?
    /// Called on the worker thread before each job runs (tests block the worker with it).
    var beforeEachJob: (@Sendable () -> Void)?

    /// Starts the worker thread, which owns `worker` (the model) from then on.
    init(capacity: Int, worker: Worker) {
        self.capacity = capacity
        let thread = Thread { self.serve(worker) }  // holds the queue until stop()
        thread.name = "smis-serve-inference"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Jobs waiting, and whether one is running (for `/api/status` and the tests).
    var load: (waiting: Int, running: Bool) {
        condition.lock()
        defer { condition.unlock() }
        return (waiting.count, running != nil)
    }

    /// Runs `work` for request `request` of `session` on the worker thread and returns its reply.
    /// Throws 409 when the page has already sent a newer request (or does so before this one
    /// finishes), 503 when the line is full.
    func submit(session: PageSession, request: Int, work: @escaping Work) async throws -> ActionReply {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopped else {
                return continuation.resume(throwing: ServeError(.serviceUnavailable, "The server is stopping."))
            }
            guard request > session.latestRequest else {
                return continuation.resume(throwing: ServeError.superseded(request))
            }
            let stale = waiting.filter { $0.session === session }
            if waiting.count - stale.count >= capacity {
                return continuation.resume(
                    throwing: ServeError(
                        .serviceUnavailable,
                        "The model is busy: \(capacity) requests are waiting already; try again in a moment."))
            }
            session.latestRequest = request
            waiting.removeAll { $0.session === session }
            for job in stale { job.continuation.resume(throwing: ServeError.superseded(job.request)) }
            waiting.append(Job(session, request, work, continuation))
            condition.signal()
        }
    }

    /// Ends the worker thread after the running job; waiting jobs answer 503.
    func stop() {
        condition.lock()
        stopped = true
        let dropped = waiting
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        for job in dropped {
            job.continuation.resume(throwing: ServeError(.serviceUnavailable, "The server is stopping."))
        }
    }

    private func serve(_ worker: Worker) {
        while let job = next() {
            beforeEachJob?()
            let started = DispatchTime.now()
            var state = job.session.state
            let result = Result { try job.work(worker, &state) }
            let finished = DispatchTime.now()
            condition.lock()
            running = nil
            let current = job.session.latestRequest == job.request
            if current, case .success = result { job.session.state = state }
            condition.unlock()
            switch result {
            case .success(var reply) where current:
                reply.milliseconds = Self.milliseconds(from: started, to: finished)
                reply.waitedMilliseconds = Self.milliseconds(from: job.submitted, to: started)
                job.continuation.resume(returning: reply)
            case .success: job.continuation.resume(throwing: ServeError.superseded(job.request))
            case .failure(let error): job.continuation.resume(throwing: error)
            }
        }
    }

    /// The next job whose page has sent nothing newer, or nil once stopped.
    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            if !waiting.isEmpty {
                let job = waiting.removeFirst()
                running = job
                return job
            }
            condition.wait()
        }
    }

    private static func milliseconds(from start: DispatchTime, to end: DispatchTime) -> Double {
        (Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 * 10).rounded() / 10
    }
}
