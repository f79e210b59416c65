import Synchronization

/// The async shell of a bulkhead in a pipeline: permits, a queue of suspended
/// callers, queue timeouts, cancellation, and live resizing.
///
/// Every exit path returns the permit exactly once: a cancelled or timed-out
/// waiter leaves the queue, or, if a permit reached it first, hands it back.
public final class BulkheadGate: Sendable {
    private struct State {
        var core: BulkheadCore<UInt64>
        var continuations: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var abandoned: [UInt64: any Error] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>
    private let publishedInUse = Atomic<Int>(0)
    private let publishedQueued = Atomic<Int>(0)
    private let publishedCapacity = Atomic<Int>(0)
    let slots: (capacity: Int, queued: Int, timeout: Int)
    let pipeline: String

    init(spec: Bulkhead, firstSlot: Int, pipeline: String) {
        state = Locked(State(core: BulkheadCore(capacity: spec.maxConcurrent, maxQueued: spec.maxQueued)))
        slots = (firstSlot, firstSlot + 1, firstSlot + 2)
        self.pipeline = pipeline
        publishedCapacity.store(spec.maxConcurrent, ordering: .relaxed)
    }

    /// Permits held now (lock-free).
    public var inUse: Int { publishedInUse.load(ordering: .relaxed) }
    /// Calls waiting now (lock-free).
    public var queued: Int { publishedQueued.load(ordering: .relaxed) }
    /// Current capacity (lock-free).
    public var capacity: Int { publishedCapacity.load(ordering: .relaxed) }

    private func publish(_ s: inout State) {
        publishedInUse.store(s.core.inUse, ordering: .relaxed)
        publishedQueued.store(s.core.queued, ordering: .relaxed)
        publishedCapacity.store(s.core.capacity, ordering: .relaxed)
    }

    /// Applies new limits (called after the knobs changed); wakes waiters that may start.
    func resize(capacity: Int, maxQueued: Int) {
        let started = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            let ids = s.core.resize(capacity: capacity, maxQueued: maxQueued)
            publish(&s)
            return ids.compactMap { s.continuations.removeValue(forKey: $0) }
        }
        for continuation in started { continuation.resume() }
    }

    /// Fast path: takes a permit when one is free and nobody waits.
    /// Returns the counts seen before, or `nil` with the counts when the caller must queue or is refused.
    @inline(__always)
    func tryAcquire() -> (admission: BulkheadCore<UInt64>.Admission, id: UInt64, inUse: Int, queued: Int) {
        state.withLock { s in
            let inUse = s.core.inUse
            let queued = s.core.queued
            s.nextID &+= 1
            let id = s.nextID
            let admission = s.core.acquire(id)
            publish(&s)
            return (admission, id, inUse, queued)
        }
    }

    /// Waits in the queue as `id` until a permit arrives, the timeout passes, or the task is cancelled.
    func wait(id: UInt64, timeoutAt deadline: Int64?, time: any TimeSource) async throws {
        if let deadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await time.sleep(until: deadline)
                        self.abandon(
                            id,
                            because: ResilienceError(
                                .bulkheadQueueTimeout, pipeline: self.pipeline,
                                "\(self.pipeline): waited longer than the bulkhead queue timeout"))
                    } catch {
                        // The wait ended first and cancelled the timer.
                    }
                }
                defer { group.cancelAll() }
                try await suspend(id: id)
            }
        } else {
            try await suspend(id: id)
        }
    }

    private func suspend(id: UInt64) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> Result<Bool, any Error> in
                    if let error = s.abandoned.removeValue(forKey: id) { return .failure(error) }
                    if s.core.queuedContains(id) {
                        s.continuations[id] = continuation
                        return .success(false)
                    }
                    return .success(true)  // a permit arrived before we suspended
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            abandon(id, because: CancellationError())
        }
    }

    /// Makes waiter `id` leave the queue with `error`; if it already holds a permit, nothing happens
    /// (the caller will finish normally and release it).
    private func abandon(_ id: UInt64, because error: any Error) {
        let continuation = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard s.core.leave(id) else { return nil }
            publish(&s)
            if let continuation = s.continuations.removeValue(forKey: id) { return continuation }
            s.abandoned[id] = error  // not suspended yet: `suspend` will throw it
            return nil
        }
        continuation?.resume(throwing: error)
    }

    /// Whether the call holding `ticket` still waits in the queue (`false` once a permit reached it).
    public func isWaiting(_ ticket: UInt64) -> Bool {
        state.withLock { $0.core.queuedContains(ticket) }
    }

    /// Takes the call holding `ticket` out of the queue; `false` if a permit reached it first
    /// (it then holds the permit and must release it).
    public func leave(_ ticket: UInt64) -> Bool {
        state.withLock { s in
            let left = s.core.leave(ticket)
            publish(&s)
            return left
        }
    }

    /// Returns a permit; the next waiter, if any may start, gets it.
    @inline(__always)
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            let waiter = s.core.release()
            publish(&s)
            guard let waiter else { return nil }
            return s.continuations.removeValue(forKey: waiter)
        }
        next?.resume()
    }
}

extension BulkheadCore {
    /// Whether `waiter` is still in the queue.
    func queuedContains(_ waiter: Waiter) -> Bool {
        waiting.contains(waiter)
    }
}
