import AsyncHTTPClient
import Resilience

/// A request a ``PipelineHTTPClient`` could not send as asked, or an attempt
/// that failed.
///
/// Thrown by the initializers (a bad upstream, a variant without one) and by
/// `execute`: an answer the classification counts as a failure
/// (``Code-swift.struct/failureStatus``, with the answer in ``response``), a
/// connection that failed, an attempt past its deadline, a body that cannot be
/// sent again. Policies' refusals (an open breaker, a full bulkhead, a rate
/// limit, the pipeline's timeout) come as `ResilienceError`, and cancellation as
/// `CancellationError`, unchanged.
///
/// The pipeline's `Retry` reads ``isRetryable`` (through `RetryClassifying`,
/// with its default predicate) and ``retryAfter`` (through `RetryAfterHinting`).
public struct PipelineHTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// The upstream answered with a status the classification counts as a failure
        /// (5xx, 408 and 429 by default); ``PipelineHTTPClientError/response`` holds the answer.
        public static let failureStatus = Code("failure_status")
        /// No connection, or the connection broke before the answer's head (refused, reset,
        /// closed, a connect or TLS handshake timeout).
        public static let connectionFailed = Code("connection_failed")
        /// The attempt's own deadline (``PipelineHTTPClient/Configuration/attemptTimeout``)
        /// passed before the answer's head arrived.
        public static let attemptTimedOut = Code("attempt_timed_out")
        /// AsyncHTTPClient failed the request for another reason (see ``PipelineHTTPClientError/underlying``).
        public static let requestFailed = Code("request_failed")
        /// Another attempt needed a request body that can only be sent once.
        public static let bodyNotReplayable = Code("body_not_replayable")
        /// A request URL that is not a path, or an upstream that is not an `http`/`https` base URL.
        public static let invalidURL = Code("invalid_url")
        /// A traffic-split variant has no upstream.
        public static let missingUpstream = Code("missing_upstream")
        /// An upstream is named after a variant the pipeline's split does not have.
        public static let unknownVariant = Code("unknown_variant")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// What went wrong.
    public var code: Code
    /// A message naming the pipeline, the request and the reason.
    public var message: String
    /// The answer counted as a failure (code ``Code-swift.struct/failureStatus``): its status and
    /// header fields, and its body read into memory up to
    /// ``PipelineHTTPClient/Configuration/failureBodyLimit`` bytes.
    public var response: HTTPClientResponse?
    /// The error AsyncHTTPClient or SwiftNIO threw, if any.
    public var underlying: (any Error)?
    /// Whether another attempt may succeed, as the classification, the method and the body decided.
    public var isRetryable: Bool
    /// How long the upstream asked to wait (its `Retry-After`), if it did.
    public var retryAfter: Duration?

    /// Makes an error.
    public init(
        _ code: Code, _ message: String, response: HTTPClientResponse? = nil, underlying: (any Error)? = nil,
        isRetryable: Bool = false, retryAfter: Duration? = nil
    ) {
        self.code = code
        self.message = message
        self.response = response
        self.underlying = underlying
        self.isRetryable = isRetryable
        self.retryAfter = retryAfter
    }

    /// The message.
    public var description: String { message }
}

extension PipelineHTTPClientError: RetryClassifying, RetryAfterHinting {}
