import HTTPTypes
import Hummingbird
import Resilience

extension PipelineMiddleware {
    /// The answer to a call the pipeline refused or ended: 429, 503 or 504, with `Retry-After`
    /// and, for 429, the rate-limit fields.
    func refusal(_ error: ResilienceError) -> HTTPError {
        var headers = HTTPFields()
        switch error.code {
        case .rateLimited:
            let retryAfter = error.retryAfter ?? configuration.unknownRetryAfter
            headers[.retryAfter] = Self.retryAfterValue(retryAfter)
            if let status = pipeline.rateLimitStatus() {
                RateLimitFields(policy: configuration.rateLimitPolicy, status: status, retryAfter: retryAfter)
                    .write(to: &headers, legacy: configuration.legacyRateLimitFields)
            }
            return HTTPError(.tooManyRequests, headers: headers, message: "rate limit reached")
        case .timedOut:
            return HTTPError(.gatewayTimeout, headers: headers, message: "the request timed out")
        default:
            // An open breaker, a full bulkhead, or a wait in its queue that timed out.
            headers[.retryAfter] = Self.retryAfterValue(error.retryAfter ?? configuration.unknownRetryAfter)
            return HTTPError(.serviceUnavailable, headers: headers, message: "the service is unavailable, try again later")
        }
    }

    /// `Retry-After` as delay-seconds: whole seconds rounded up, at least 1.
    static func retryAfterValue(_ duration: Duration) -> String {
        String(max(1, RateLimitFields.wholeSeconds(roundingUp: duration.secondsDouble)))
    }
}
