import AsyncHTTPClient
import Logging
import NIOHTTP1
import Resilience

/// Sends AsyncHTTPClient requests through a Resilience ``Pipeline``: its
/// retry, breaker, bulkhead, rate limiter, timeout and traffic split apply to
/// every request, every answer is classified and recorded in the pipeline's
/// statistics, and a split's variants go to their own upstreams.
///
/// ```swift
/// let pipeline = try Pipeline("inventory") {
///     Timeout(.seconds(2), mode: .cooperative)
///     Retry(maxAttempts: 3, baseDelay: .milliseconds(50))
///     CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
///     TrafficSplit([("stable", 95), ("canary", 5)])
/// }
/// let inventory = try PipelineHTTPClient(
///     pipeline: pipeline, httpClient: .shared,
///     upstreams: ["stable": "http://127.0.0.1:8081", "canary": "http://127.0.0.1:8082"],
///     configuration: .init(attemptTimeout: .milliseconds(500)))
/// let response = try await inventory.execute(HTTPClientRequest(url: "/items/42"), key: userID)
/// ```
///
/// - Each attempt's answer is classified (``AttemptClassification``: 5xx, 408 and 429 are
///   failures; 408, 429, 502, 503, 504 and connection failures are retryable). A success is
///   returned as AsyncHTTPClient returned it (a 404 too: the caller reads its status). A failure
///   is thrown through the pipeline, so its breaker and windows count it, and its body is read
///   (up to ``Configuration/failureBodyLimit``) so the connection is free for the next attempt;
///   when the call finally fails, the caller gets ``PipelineHTTPClientError`` with the answer in
///   `response`, or the answer itself with ``FailedResponseHandling/returned``.
/// - `Retry-After` on a failure answer (seconds or an HTTP-date) makes the pipeline's `Retry`
///   wait at least that long; beyond the retry's `max_delay` the call fails at once.
/// - Every attempt gets its own deadline (``Configuration/attemptTimeout``).
/// - ``Configuration/hedging`` sends a slow idempotent request again (``HTTPHedging``).
/// - Only the idempotent methods are retried (``Configuration/retryableMethods``), and only
///   bodies given as a ``ReplayableBody``.
///
/// The request's URL is a path (`/items/42?fields=stock`), appended to the upstream's base URL.
/// Policies' refusals come as `ResilienceError` (an open breaker, a full bulkhead, the rate limit,
/// the pipeline's timeout) and cancellation as `CancellationError`.
public struct PipelineHTTPClient: Sendable {
    /// The pipeline requests run through.
    public let pipeline: Pipeline
    /// The client that sends them (the caller owns it and shuts it down).
    public let httpClient: HTTPClient
    /// The configuration.
    public let configuration: Configuration
    let upstreams: Upstreams

    /// Sends every request to `upstream` (a base URL such as `http://inventory:8080/api`).
    ///
    /// - Throws: ``PipelineHTTPClientError`` (`invalid_url`) when `upstream` is not an `http` or
    ///   `https` URL with a host and without query or fragment.
    public init(
        pipeline: Pipeline, httpClient: HTTPClient, upstream: String, configuration: Configuration = .init()
    ) throws(PipelineHTTPClientError) {
        self.pipeline = pipeline
        self.httpClient = httpClient
        self.configuration = configuration
        upstreams = try Upstreams(single: upstream, pipeline: pipeline.name)
    }

    /// Sends each request to the upstream of the traffic-split variant the pipeline routes it to
    /// (`["stable": "http://10.0.0.1:8080", "canary": "http://10.0.0.2:8080"]`).
    ///
    /// - Throws: ``PipelineHTTPClientError``: `unknown_variant` when the pipeline has no
    ///   `TrafficSplit` or a name is not one of its variants, `missing_upstream` when a variant
    ///   has none, `invalid_url` when a URL is not a base URL.
    public init(
        pipeline: Pipeline, httpClient: HTTPClient, upstreams: [String: String], configuration: Configuration = .init()
    ) throws(PipelineHTTPClientError) {
        self.pipeline = pipeline
        self.httpClient = httpClient
        self.configuration = configuration
        self.upstreams = try Upstreams(
            byVariant: upstreams, variants: pipeline.variantWindows.map(\.name), pipeline: pipeline.name)
    }

    /// Sends `request` (its URL a path) through the pipeline to the upstream of its variant.
    ///
    /// A request without a body may be retried and hedged; the body of one that has one is sent
    /// once, by one attempt (pass it as a ``ReplayableBody`` to have it retried).
    ///
    /// - Parameters:
    ///   - key: keeps a caller on one traffic-split variant (a user id, a session).
    ///   - logger: passed to AsyncHTTPClient.
    /// - Returns: the answer of the attempt that succeeded (its body is the caller's to read), or
    ///   with ``FailedResponseHandling/returned`` the last failure answer.
    /// - Throws: ``PipelineHTTPClientError``, `ResilienceError` or `CancellationError`.
    public func execute(
        _ request: HTTPClientRequest, key: String? = nil, logger: Logger? = nil
    ) async throws -> HTTPClientResponse {
        try await execute(request, body: request.body.map(CallBody.once) ?? .none, key: key, logger: logger)
    }

    /// Sends `request` with `body` (which replaces the request's own), which every attempt can send:
    /// the call may be retried and hedged.
    public func execute(
        _ request: HTTPClientRequest, body: ReplayableBody, key: String? = nil, logger: Logger? = nil
    ) async throws -> HTTPClientResponse {
        try await execute(request, body: .replayable(body), key: key, logger: logger)
    }

    func execute(
        _ request: HTTPClientRequest, body: CallBody, key: String?, logger: Logger?
    ) async throws -> HTTPClientResponse {
        guard request.url.hasPrefix("/") else {
            throw PipelineHTTPClientError(
                .invalidURL, "\(pipeline.name): request URL \"\(request.url)\" is not a path (it starts with /)")
        }
        let call = OutgoingCall(
            request: request, body: body, logger: logger,
            retryable: body.isReplayable && configuration.retryableMethods.contains(request.method),
            hedging: body.isReplayable ? configuration.hedging.flatMap { $0.methods.contains(request.method) ? $0 : nil } : nil)
        do {
            return try await pipeline.execute(key: key) { context in
                try await self.attempt(call, context)
            }
        } catch let error as PipelineHTTPClientError {
            if configuration.failedResponses == .returned, let response = error.response { return response }
            throw error
        }
    }
}
