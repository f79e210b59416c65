/// The synchronous core of a bulkhead: permits in use and a FIFO of waiting
/// call identifiers. The simulator drives it directly; ``BulkheadGate`` wraps
/// it with continuations.
public struct BulkheadCore<Waiter: Hashable & Sendable>: Sendable {
    /// What happened to a call that asked for a permit.
    public enum Admission: Sendable, Hashable {
        /// It holds a permit.
        case acquired
        /// It waits in the queue.
        case queued
        /// Capacity and queue were both full.
        case rejected
    }

    /// Calls allowed at once.
    public private(set) var capacity: Int
    /// Calls allowed to wait.
    public private(set) var maxQueued: Int
    /// Permits held.
    public private(set) var inUse = 0
    private var queue: [Waiter] = []
    private var head = 0

    /// Makes an idle bulkhead.
    public init(capacity: Int, maxQueued: Int) {
        self.capacity = max(1, capacity)
        self.maxQueued = max(0, maxQueued)
    }

    /// Calls waiting.
    public var queued: Int { queue.count - head }

    /// The waiting calls, first in line first.
    public var waiting: ArraySlice<Waiter> { queue[head...] }

    /// Asks for a permit for `waiter`.
    public mutating func acquire(_ waiter: Waiter) -> Admission {
        if inUse < capacity && queued == 0 {
            inUse += 1
            return .acquired
        }
        if queued >= maxQueued { return .rejected }
        queue.append(waiter)
        return .queued
    }

    /// Returns a permit; hands it to the first waiter, if any may start, and returns that waiter.
    public mutating func release() -> Waiter? {
        inUse -= 1
        return admitWaiter()
    }

    /// Removes a waiter that gave up (timeout or cancellation); `false` if it was not waiting
    /// (it already got a permit, which it must release).
    public mutating func leave(_ waiter: Waiter) -> Bool {
        guard let index = queue[head...].firstIndex(of: waiter) else { return false }
        queue.remove(at: index)
        compact()
        return true
    }

    /// Changes the limits; returns the waiters that may start now.
    public mutating func resize(capacity: Int, maxQueued: Int) -> [Waiter] {
        self.capacity = max(1, capacity)
        self.maxQueued = max(0, maxQueued)
        var started: [Waiter] = []
        while let waiter = admitWaiter() { started.append(waiter) }
        return started
    }

    private mutating func admitWaiter() -> Waiter? {
        guard inUse < capacity, head < queue.count else { return nil }
        let waiter = queue[head]
        head += 1
        inUse += 1
        compact()
        return waiter
    }

    private mutating func compact() {
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
