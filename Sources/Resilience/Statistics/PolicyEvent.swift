/// Something a policy did that observers may want to hear about.
public struct PolicyEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// Retry is about to make attempt `attempt` (2 or more) after `delay` seconds.
        case retryAttempt(attempt: Int, delay: Double)
        /// Retry gave up after `attempts` attempts.
        case retryExhausted(attempts: Int)
        /// The retry budget refused a retry.
        case retryBudgetExhausted
        /// A breaker changed state.
        case breakerTransition(from: CircuitState, to: CircuitState)
        /// A bulkhead refused a call (full, or its queue wait timed out).
        case bulkheadRejected(queueTimedOut: Bool)
        /// A timeout fired after `after` seconds.
        case timeout(after: Double)
        /// A rate limiter refused a call; it may try again after `retryAfter` seconds.
        case rateLimited(retryAfter: Double)
    }

    /// The pipeline the event happened in.
    public var pipeline: String
    /// What happened.
    public var kind: Kind
    /// When, in nanoseconds on the pipeline's time source.
    public var time: Int64

    /// Makes an event.
    public init(pipeline: String, kind: Kind, time: Int64) {
        self.pipeline = pipeline
        self.kind = kind
        self.time = time
    }
}
