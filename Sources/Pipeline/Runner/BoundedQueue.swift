import Foundation

/// A first-in first-out queue of at most `capacity` items shared by producers and consumers:
/// `push` waits while full, `pop` waits while empty. It is what keeps memory independent of the
/// data set's size: the walk can never run ahead of the workers.
///
/// Threads are woken only when they can go on: consumers when an item arrives while they wait,
/// producers once a full queue has drained to half. Waking every waiter on every push and pop
/// made the walk's thread switch in and out twice per sample.
final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private let condition = NSCondition()
    private var waitingConsumers = 0
    private var waitingProducers = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for one item")
        self.capacity = capacity
    }

    /// Waits for room, then appends. False (item not added) once the queue is closed.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !closed {
            waitingProducers += 1
            condition.wait()
            waitingProducers -= 1
        }
        guard !closed else { return false }
        items.append(item)
        if waitingConsumers > 0 { condition.broadcast() }
        return true
    }

    /// Waits for an item; nil when the queue is closed and empty (or closed with `discard`).
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed {
            waitingConsumers += 1
            condition.wait()
            waitingConsumers -= 1
        }
        guard items.count > head else { return nil }
        return takeFirstLocked()
    }

    /// Removes and returns the first item; the lock is held and the queue is not empty.
    private func takeFirstLocked() -> Element {
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        if waitingProducers > 0 && items.count - head <= capacity / 2 { condition.broadcast() }
        return item
    }

    /// What `pop(waitingUntil:)` found.
    enum Wait {
        case item(Element)
        case timedOut
        case closed
    }

    /// Waits for an item until `deadline`; `.closed` when the queue is closed and empty (or
    /// closed with `discard`).
    func pop(waitingUntil deadline: Date) -> Wait {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed {
            waitingConsumers += 1
            let signalled = condition.wait(until: deadline)
            waitingConsumers -= 1
            if !signalled && items.count == head && !closed { return .timedOut }
        }
        guard items.count > head else { return .closed }
        return .item(takeFirstLocked())
    }

    /// No more pushes; consumers drain what is left. With `discardingPending`, they stop now.
    func close(discardingPending: Bool = false) {
        condition.lock()
        closed = true
        if discardingPending {
            items.removeAll()
            head = 0
        }
        condition.broadcast()
        condition.unlock()
    }
}
