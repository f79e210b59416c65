/// Answers with a fallback when a call fails, or only when a chosen policy refused it.
///
/// ```swift
/// let cached = Fallback<Price>(when: .rejected) { _ in lastKnownPrice }
/// let price = try await cached.execute { try await checkout.execute { try await prices.fetch() } }
/// ```
public struct Fallback<Value: Sendable>: Sendable {
    /// Which failures the fallback answers.
    public enum Trigger: Sendable {
        /// Any error except cancellation.
        case anyFailure
        /// Any refusal by a breaker, bulkhead or rate limiter.
        case rejected
        /// Only errors with these codes (for example `.circuitOpen`, `.timedOut`).
        case codes(Set<ResilienceError.Code>)
        /// Errors the predicate accepts.
        case matching(@Sendable (any Error) -> Bool)
    }

    /// Which failures the fallback answers.
    public var trigger: Trigger
    /// Makes the fallback value from the error.
    public var fallback: @Sendable (any Error) async throws -> Value

    /// Makes a fallback.
    public init(when trigger: Trigger = .anyFailure, _ fallback: @escaping @Sendable (any Error) async throws -> Value) {
        self.trigger = trigger
        self.fallback = fallback
    }

    /// Whether `error` is answered by the fallback.
    public func handles(_ error: any Error) -> Bool {
        if error is CancellationError { return false }
        switch trigger {
        case .anyFailure: return true
        case .rejected: return (error as? ResilienceError)?.isRejection ?? false
        case .codes(let codes): return (error as? ResilienceError).map { codes.contains($0.code) } ?? false
        case .matching(let predicate): return predicate(error)
        }
    }

    /// Runs `operation`; on a handled error, returns the fallback's value instead.
    public func execute(_ operation: () async throws -> Value) async throws -> Value {
        do {
            return try await operation()
        } catch {
            guard handles(error) else { throw error }
            return try await fallback(error)
        }
    }
}
