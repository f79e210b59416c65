import Resilience

/// Runs `body`, or after `limit` runs `onTimeout` (close the connection
/// `body` uses) and throws ``DeadlineExceeded`` without waiting for `body`:
/// a query on a connection that closed under it may never answer.
func withDeadline<Value: Sendable>(
    _ limit: Duration, onTimeout: @escaping @Sendable () async -> Void, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let waiter = Locked<CheckedContinuation<Value, any Error>?>(nil)
    let tasks = Locked<[Task<Void, Never>]>([])
    // Resumes the caller once: with the body's result, the deadline, or the caller's cancellation.
    let finish: @Sendable (Result<Value, any Error>) -> Bool = { result in
        guard let continuation = waiter.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        for task in tasks.withLock({ $0 }) { task.cancel() }
        return true
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            waiter.withLock { $0 = continuation }
            let work = Task {
                do { _ = finish(.success(try await body())) } catch { _ = finish(.failure(error)) }
            }
            let timer = Task {
                do { try await Task.sleep(for: limit) } catch { return }
                if finish(.failure(DeadlineExceeded(limit: limit))) { await onTimeout() }
            }
            tasks.withLock { $0 = [work, timer] }
        }
    } onCancel: {
        _ = finish(.failure(CancellationError()))
    }
}

/// A database call that did not answer in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "no answer from the database within \(limit)" }
}
