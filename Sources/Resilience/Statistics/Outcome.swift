/// How a call ended, as the windows count it.
public enum Outcome: UInt8, Sendable, Hashable, CaseIterable {
    /// The operation returned a value.
    case success = 0
    /// The operation threw (or was cancelled).
    case failure = 1
    /// A timeout policy gave up on it.
    case timeout = 2
    /// A circuit breaker refused it.
    case rejectedByBreaker = 3
    /// A bulkhead refused it (full, or the queue wait timed out).
    case rejectedByBulkhead = 4
    /// A rate limiter refused it.
    case rejectedByRateLimiter = 5
    /// Shadow windows only: what the shadow would have seen cannot be known.
    case unknown = 6

    /// Whether this outcome counts as a failure (timeouts and rejections do).
    @inlinable public var isFailure: Bool { self != .success && self != .unknown }

    /// Whether a policy refused the call.
    @inlinable public var isRejection: Bool {
        self == .rejectedByBreaker || self == .rejectedByBulkhead || self == .rejectedByRateLimiter
    }
}
