/// One policy of a built pipeline, with its runtime state.
enum Stage: Sendable {
    case timeout(TimeoutRunner)
    case retry(RetryRunner)
    case breaker(BreakerGate)
    case bulkhead(BulkheadGate)
    case rateLimit(RateLimitGate)
    case split(SplitRouter)
}
