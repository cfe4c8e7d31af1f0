import Dispatch
import Foundation
import Tensor

/// Averages parameter gradients over the processes of a data-parallel run while the backward
/// pass is still running, as PyTorch's DistributedDataParallel does.
///
/// ```swift
/// averager.begin(parameters)
/// try loss.backward(onGradientReady: averager.gradientReady)   // buckets leave as they fill
/// try averager.finish()                                        // every grad is now the mean
/// try adam.step(parameters)
/// ```
/// The backward pass announces each parameter as soon as its gradient is final. Announced
/// gradients are packed, in the order announced, into buckets of about `bucketBytes`; a full
/// bucket is copied into its own buffer and handed to one communication thread, which sums it
/// over the processes (on a duplicate communicator, so its collectives never queue behind the
/// main thread's) while the main thread goes on with the backward pass. `finish()` sends the
/// last, partial bucket, waits for every sum and writes each gradient back divided by the
/// number of processes. The order of announcements is fixed by the graph, the same on every
/// process, so every process forms the same buckets and sums them in the same order.
///
/// A parameter without a gradient stays without one (Adam then skips it, as on one process).
/// Buffers are allocated once and reused: their total is one copy of the largest set of
/// gradients averaged in one pass.
public final class GradientAverager {
    /// PyTorch DDP's default bucket size: large enough that a ring all-reduce is bound by
    /// bandwidth, small enough that the first buckets leave early in the backward pass.
    public static let defaultBucketBytes = 25 << 20

    private let communicator: Communicator
    private let bucketCapacity: Int
    private let worker = CommunicationThread()
    private var buffers: [UnsafeMutableBufferPointer<Float>] = []
    // The current pass.
    private var parameters: [Tensor] = []
    private var positions: [ObjectIdentifier: Int] = [:]
    private var announced: [Bool] = []
    private var open: [Tensor] = []
    private var openCount = 0
    private var buckets: [(parameters: [Tensor], count: Int)] = []
    private var passStarted: UInt64 = 0
    private var accumulated = CommunicationTimings()

    /// - Parameters:
    ///   - communicator: used by the communication thread alone; pass a ``Communicator/duplicate()``
    ///     of the one the main thread uses.
    public init(communicator: Communicator, bucketBytes: Int = GradientAverager.defaultBucketBytes) {
        self.communicator = communicator
        bucketCapacity = max(1, bucketBytes / MemoryLayout<Float>.size)
    }

    deinit {
        // A pass abandoned by an error may leave a sum running on a buffer: never free that one
        // (the process is ending anyway).
        if worker.stop() { buffers.forEach { $0.deallocate() } }
    }

    /// Starts a backward pass whose gradients of `parameters` are to be averaged.
    public func begin(_ parameters: [Tensor]) {
        self.parameters = parameters
        positions = Dictionary(parameters.enumerated().map { (ObjectIdentifier($1), $0) },
                               uniquingKeysWith: { first, _ in first })
        announced = [Bool](repeating: false, count: parameters.count)
        open = []
        openCount = 0
        buckets = []
        passStarted = DispatchTime.now().uptimeNanoseconds
    }

    /// The backward pass's announcement that `tensor`'s gradient is final (see
    /// `Tensor.backward(onGradientReady:)`); tensors not passed to ``begin(_:)`` are ignored.
    public func gradientReady(_ tensor: Tensor) {
        guard let position = positions[ObjectIdentifier(tensor)], !announced[position] else { return }
        announced[position] = true
        guard let gradient = tensor.grad else { return }
        open.append(tensor)
        openCount += gradient.count
        if openCount >= bucketCapacity { sendOpenBucket() }
    }

    /// Sends what is left, waits for every bucket's sum and replaces each gradient by the mean
    /// over the processes. Throws the communication thread's error, if any.
    public func finish() throws {
        // Gradients the pass never announced (a backward pass run without the hook) go last,
        // in parameter order, which is the same on every process.
        for (position, parameter) in parameters.enumerated() where !announced[position] {
            announced[position] = true
            if let gradient = parameter.grad {
                open.append(parameter)
                openCount += gradient.count
            }
        }
        sendOpenBucket()
        let waitStarted = DispatchTime.now().uptimeNanoseconds
        let reduceNanoseconds = try worker.waitForAll()
        let finished = DispatchTime.now().uptimeNanoseconds
        accumulated.exposedSeconds += Double(finished - waitStarted) / 1e9
        accumulated.backwardSeconds += Double(waitStarted - passStarted) / 1e9
        accumulated.allreduceSeconds += Double(reduceNanoseconds) / 1e9
        let scale = 1 / Float(communicator.size)
        for (number, bucket) in buckets.enumerated() {
            let buffer = buffers[number]
            var offset = 0
            for parameter in bucket.parameters {
                parameter.grad!.withUnsafeMutableBufferPointer { gradient in
                    for index in gradient.indices { gradient[index] = buffer[offset + index] * scale }
                    offset += gradient.count
                }
            }
        }
        buckets = []
    }

    /// The communication measured since the last call (both steps of an iteration), and resets it.
    public func takeTimings() -> CommunicationTimings {
        defer { accumulated = CommunicationTimings() }
        return accumulated
    }

    /// Copies the open bucket's gradients into its buffer and hands the buffer to the thread.
    private func sendOpenBucket() {
        guard !open.isEmpty else { return }
        let number = buckets.count
        if number == buffers.count || buffers[number].count < openCount {
            if number < buffers.count { buffers[number].deallocate() }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: openCount)
            if number < buffers.count { buffers[number] = buffer } else { buffers.append(buffer) }
        }
        let buffer = UnsafeMutableBufferPointer(rebasing: buffers[number][0..<openCount])
        var offset = 0
        for parameter in open {
            parameter.grad!.withUnsafeBufferPointer { gradient in
                let slot = UnsafeMutableBufferPointer(rebasing: buffer[offset..<offset + gradient.count])
                _ = slot.initialize(from: gradient)
                offset += gradient.count
            }
        }
        buckets.append((open, openCount))
        accumulated.reducedBytes += openCount * MemoryLayout<Float>.size
        accumulated.buckets += 1
        open = []
        openCount = 0
        let communicator = self.communicator
        worker.submit { try communicator.sum(buffer) }
    }
}

/// Where the time of averaging gradients went, summed over the passes measured.
public struct CommunicationTimings: Codable, Equatable, Sendable {
    /// Gradient bytes summed over the processes, and in how many buckets.
    public var reducedBytes = 0
    public var buckets = 0
    /// The communication thread's time inside the sums.
    public var allreduceSeconds = 0.0
    /// The main thread's wait for the sums after its backward passes: the part of
    /// `allreduceSeconds` the passes did not hide.
    public var exposedSeconds = 0.0
    /// The backward passes' time (from `begin` to `finish`), in which the sums can hide.
    public var backwardSeconds = 0.0

    public init() {}
}

/// One thread that runs submitted work in order, for the collectives that must not block
/// the main thread. Work after a failure is skipped; the failure is thrown by the next wait.
final class CommunicationThread: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [() throws -> Void] = []
    private var busy = false
    private var stopping = false
    private var started = false
    private var failure: Error?
    private var workNanoseconds: UInt64 = 0

    func submit(_ work: @escaping () throws -> Void) {
        condition.lock()
        defer { condition.unlock() }
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "gradient all-reduce"
            thread.start()
        }
        queue.append(work)
        condition.broadcast()
    }

    /// Waits until every submitted piece of work has run; returns the time spent in them since
    /// the last wait, or throws the first failure.
    func waitForAll() throws -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        while busy || !queue.isEmpty { condition.wait() }
        defer { workNanoseconds = 0; failure = nil }
        if let failure { throw failure }
        return workNanoseconds
    }

    /// Ends the thread after the current work, dropping what is queued; returns whether it
    /// was idle (no work running, so no buffer is in use).
    func stop() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        queue = []
        condition.broadcast()
        return !busy
    }

    private func run() {
        condition.lock()
        while true {
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping { break }
            let work = queue.removeFirst()
            let skip = failure != nil
            busy = true
            condition.unlock()
            let started = DispatchTime.now().uptimeNanoseconds
            var thrown: Error?
            if !skip {
                do { try work() } catch { thrown = error }
            }
            let elapsed = DispatchTime.now().uptimeNanoseconds - started
            condition.lock()
            busy = false
            workNanoseconds += elapsed
            if let thrown, failure == nil { failure = thrown }
            condition.broadcast()
        }
        condition.unlock()
    }
}
