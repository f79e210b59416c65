import NIOHTTP1

extension PipelineHTTPClient {
    /// What the client does with an answer counted as a failure when the call finally fails.
    public enum FailedResponseHandling: Sendable, Hashable {
        /// Throw ``PipelineHTTPClientError`` with code `failure_status`; the answer is in its
        /// `response` (the default).
        case thrown
        /// Return the last answer, as AsyncHTTPClient would have (it still counted as a
        /// failure, and its body is the part read into memory).
        case returned
    }

    /// How attempts are classified, bounded, hedged and answered; every setting has a default.
    public struct Configuration: Sendable {
        /// What counts as a failure and what is worth another attempt (``AttemptClassification/standard``).
        public var classification: AttemptClassification
        /// Each attempt's own deadline, from the moment it is sent to the answer's head (connecting
        /// and sending included, as AsyncHTTPClient's deadline), or `nil` for none. A cooperative
        /// `Timeout` of the pipeline that ends sooner shortens it; an enforced one cancels the attempt.
        public var attemptTimeout: Duration?
        /// Methods whose failed attempts may be retried: the idempotent ones of RFC 9110 by default.
        /// A request with another method (POST, PATCH) is retried only when it never reached the
        /// upstream (connection refused or not made in time); add `.POST` when the upstream
        /// deduplicates (an idempotency key).
        public var retryableMethods: [HTTPMethod]
        /// Hedged requests, or `nil` for none (the default).
        public var hedging: HTTPHedging?
        /// What a call that finally fails on an answer counted as a failure gives the caller.
        public var failedResponses: FailedResponseHandling
        /// The most bytes of a failure answer's body kept in memory (for the error's `response`);
        /// up to 1 MiB more is read and discarded, so the connection can serve the next request
        /// (a longer body is dropped, which closes the connection).
        public var failureBodyLimit: Int
        /// The longest a failure answer's body is read (kept and discarded); past it the
        /// connection is closed instead. Also bounded by the attempt's deadline.
        public var failureBodyTimeout: Duration
        /// The wall clock in Unix seconds, for `Retry-After` dates (a test seam).
        var wallClock: @Sendable () -> Double = RetryAfterField.wallClockSeconds

        /// Makes a configuration; every setting has a default.
        public init(
            classification: AttemptClassification = .standard,
            attemptTimeout: Duration? = nil,
            retryableMethods: [HTTPMethod] = PipelineHTTPClient.idempotentMethods,
            hedging: HTTPHedging? = nil,
            failedResponses: FailedResponseHandling = .thrown,
            failureBodyLimit: Int = 64 << 10,
            failureBodyTimeout: Duration = .seconds(2)
        ) {
            self.classification = classification
            self.attemptTimeout = attemptTimeout
            self.retryableMethods = retryableMethods
            self.hedging = hedging
            self.failedResponses = failedResponses
            self.failureBodyLimit = failureBodyLimit
            self.failureBodyTimeout = failureBodyTimeout
        }
    }

    /// GET, HEAD, OPTIONS, TRACE, PUT and DELETE: the idempotent methods of RFC 9110.
    public static let idempotentMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE]
}
