import Foundation

/// A first-in first-out queue of at most `capacity` items shared by one producer and several
/// consumers: `push` waits while full, `pop` waits while empty. It is what keeps memory
/// independent of the data set's size: the walk can never run ahead of the workers.
final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private let condition = NSCondition()

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for one item")
        self.capacity = capacity
    }

    /// Waits for room, then appends. False (item not added) once the queue is closed.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for an item; nil when the queue is closed and empty (or closed with `discard`).
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed { condition.wait() }
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
        condition.broadcast()
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
            if !condition.wait(until: deadline) && items.count == head && !closed { return .timedOut }
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
