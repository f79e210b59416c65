import Resilience

extension Outcome {
    /// The outcome as written in span attributes and docs: `success`,
    /// `failure`, `timeout`, `rejected_by_breaker`, `rejected_by_bulkhead`,
    /// `rejected_by_rate_limiter`, `unknown`.
    public var spanValue: String {
        switch self {
        case .success: "success"
        case .failure: "failure"
        case .timeout: "timeout"
        case .rejectedByBreaker: "rejected_by_breaker"
        case .rejectedByBulkhead: "rejected_by_bulkhead"
        case .rejectedByRateLimiter: "rejected_by_rate_limiter"
        case .unknown: "unknown"
        }
    }
}
