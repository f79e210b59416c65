import DequeModule
import Resilience

/// A bounded first-in first-out queue between the events (taken from the
/// audit and the alerts, never waiting) and one endpoint's sender (which
/// waits for the next).
///
/// ``offer(_:)`` never blocks: a full or closed queue refuses the new item
/// (and says which), and the caller counts it as dropped.
final class DeliveryQueue<Item: Sendable>: Sendable {
    /// What became of an offered item.
    enum Offer: Sendable, Hashable {
        case accepted
        /// Refused: `capacity` items are waiting.
        case full
        /// Refused: the queue was closed (the service stopped).
        case closed
    }

    private struct State {
        var items = Deque<Item>()
        var closed = false
        var waiter: CheckedContinuation<Item?, Never>?
    }

    let capacity: Int
    private let state = Locked(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `item` unless the queue is full or closed.
    func offer(_ item: Item) -> Offer {
        let (offer, waiter) = state.withLock { state -> (Offer, CheckedContinuation<Item?, Never>?) in
            guard !state.closed else { return (.closed, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.accepted, waiter)
            }
            guard state.items.count < capacity else { return (.full, nil) }
            state.items.append(item)
            return (.accepted, nil)
        }
        waiter?.resume(returning: item)
        return offer
    }

    /// The next item; waits for one. Nil once the queue is closed and empty,
    /// or when the task is cancelled.
    func next() async -> Item? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                let ready = state.withLock { state -> Item?? in
                    if let first = state.items.popFirst() { return .some(first) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Refuses new items; ``next()`` returns what is left, then nil.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Empties the queue; returns what it held, oldest first.
    func removeAll() -> [Item] {
        state.withLock { state in
            defer { state.items.removeAll() }
            return Array(state.items)
        }
    }

    /// Items waiting.
    var count: Int { state.withLock { $0.items.count } }
}
