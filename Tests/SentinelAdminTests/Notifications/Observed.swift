import Resilience

/// A value that tests wait on: each change wakes the waiters whose condition
/// now holds. Waiting is bounded by a timeout and gives up on cancellation.
final class Observed<Value: Sendable>: Sendable {
    private struct Waiter {
        var condition: @Sendable (Value) -> Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var value: Value
        var next: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state: Locked<State>

    init(_ value: Value) {
        state = Locked(State(value: value))
    }

    var value: Value { state.withLock { $0.value } }

    func update(_ change: (inout Value) -> Void) {
        let ready = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            change(&state.value)
            let value = state.value
            let ready = state.waiters.filter { $0.value.condition(value) }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for waiter in ready { waiter.resume(returning: true) }
    }

    /// The value once `condition` holds; throws when it has not within `timeout`.
    @discardableResult
    func wait(
        _ what: @autoclosure @escaping @Sendable () -> String, timeout: Duration = .seconds(60),
        until condition: @escaping @Sendable (Value) -> Bool
    ) async throws -> Value {
        let met = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForever(until: condition) }
            group.addTask {
                try? await ContinuousClock().sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        let value = self.value
        guard met || condition(value) else {
            throw ReceiverError("timed out after \(timeout) waiting for \(what()); now: \(value)")
        }
        return value
    }

    private func waitForever(until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.next += 1
            return state.next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                // nil: stored, for an update or the cancellation to resume (only one of them does).
                let now = state.withLock { state -> Bool? in
                    if condition(state.value) { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: false)
        }
    }
}

/// What `operation` returns, or an error when it has not returned within
/// `timeout`: a test that would hang fails instead (the operation is left
/// running; the failure is what matters then).
func within<T: Sendable>(
    _ timeout: Duration, _ what: @autoclosure @escaping @Sendable () -> String, _ operation: @escaping @Sendable () async -> T
) async throws -> T {
    let result = Observed<T?>(nil)
    Task {
        let value = await operation()
        result.update { $0 = value }
    }
    return try await result.wait(what(), timeout: timeout) { $0 != nil }!
}
