/// A call refused or ended by a policy (not by the operation itself).
public struct ResilienceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which policy acted, and how.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// A timeout policy gave up on the call.
        public static let timedOut = Code("timed_out")
        /// An open (or forced-open) circuit breaker refused the call.
        public static let circuitOpen = Code("circuit_open")
        /// A full bulkhead with a full queue refused the call.
        public static let bulkheadFull = Code("bulkhead_full")
        /// The call waited in a bulkhead's queue longer than the queue timeout.
        public static let bulkheadQueueTimeout = Code("bulkhead_queue_timeout")
        /// A rate limiter refused the call.
        public static let rateLimited = Code("rate_limited")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// Which policy acted, and how.
    public var code: Code
    /// The pipeline the call went through.
    public var pipeline: String
    /// A message naming the pipeline, the policy and the reason.
    public var message: String
    /// When the caller may try again, if the policy knows (rate limiter, open breaker).
    public var retryAfter: Duration?

    /// Makes an error.
    public init(_ code: Code, pipeline: String, _ message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.pipeline = pipeline
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The message.
    public var description: String { message }

    /// The outcome a window records for this error.
    public var outcome: Outcome {
        switch code {
        case .timedOut: .timeout
        case .circuitOpen: .rejectedByBreaker
        case .bulkheadFull, .bulkheadQueueTimeout: .rejectedByBulkhead
        case .rateLimited: .rejectedByRateLimiter
        default: .failure
        }
    }

    /// Whether a policy refused the call before it ran.
    public var isRejection: Bool { outcome.isRejection }
}
