/// Ready-made policy sets with documented defaults (see `docs/policies.md`).
///
/// ```swift
/// let orders = try Pipeline("orders", preset: .databaseClient)
/// ```
public enum Preset: String, Sendable, Hashable, CaseIterable {
    /// An HTTP service calling another in the same data centre: 5 s enforced timeout,
    /// 3 attempts (exponential 100 ms…2 s, full jitter, budget 20 %), breaker at 50 % over
    /// 100 calls (min 20, open 30 s), bulkhead 100 + 100 queued (1 s wait).
    case webService = "web_service"
    /// A database client: 2 s enforced timeout, 2 attempts (50 ms…500 ms, equal jitter,
    /// budget 10 %), breaker at 50 % over 50 calls (min 10, open 10 s), bulkhead 20 + 50
    /// queued (500 ms wait).
    case databaseClient = "database_client"
    /// A third-party API: 10 s enforced timeout, rate limit 50/s (burst 10), 4 attempts
    /// (500 ms…30 s, decorrelated jitter, budget 10 %), breaker at 30 % over 60 s (min 20,
    /// open 60 s doubling to 10 min), bulkhead 10 + 50 queued (5 s wait).
    case externalAPI = "external_api"
    /// An in-memory or near cache: 50 ms cooperative timeout, no retries, breaker at 50 %
    /// over 200 calls (min 50, open 5 s), bulkhead 500, no queue.
    case fastCache = "fast_cache"
    /// A message-queue producer: 30 s enforced timeout, 5 attempts (200 ms…20 s, full
    /// jitter, budget 30 %), breaker at 50 % over 100 calls (min 20, open 30 s),
    /// bulkhead 50 + 500 queued (10 s wait).
    case messageProducer = "message_producer"

    /// The policies, outermost first.
    public var components: [PipelineComponent] {
        switch self {
        case .webService:
            [
                Timeout(.seconds(5)).component,
                Retry(
                    maxAttempts: 3, backoff: .exponential, baseDelay: .milliseconds(100), maxDelay: .seconds(2),
                    jitter: .full, budgetRatio: 0.2
                ).component,
                CircuitBreaker(failureRate: 0.5, minimumCalls: 20, window: .count(100), openDuration: .seconds(30)).component,
                Bulkhead(maxConcurrent: 100, maxQueued: 100, queueTimeout: .seconds(1)).component,
            ]
        case .databaseClient:
            [
                Timeout(.seconds(2)).component,
                Retry(
                    maxAttempts: 2, backoff: .exponential, baseDelay: .milliseconds(50), maxDelay: .milliseconds(500),
                    jitter: .equal, budgetRatio: 0.1
                ).component,
                CircuitBreaker(failureRate: 0.5, minimumCalls: 10, window: .count(50), openDuration: .seconds(10)).component,
                Bulkhead(maxConcurrent: 20, maxQueued: 50, queueTimeout: .milliseconds(500)).component,
            ]
        case .externalAPI:
            [
                Timeout(.seconds(10)).component,
                RateLimit(rate: 50, algorithm: .tokenBucket(burst: 10)).component,
                Retry(
                    maxAttempts: 4, backoff: .exponential, baseDelay: .milliseconds(500), maxDelay: .seconds(30),
                    jitter: .decorrelated, budgetRatio: 0.1
                ).component,
                CircuitBreaker(
                    failureRate: 0.3, minimumCalls: 20, window: .time(seconds: 60), openDuration: .seconds(60),
                    openMultiplier: 2, maxOpenDuration: .seconds(600)
                ).component,
                Bulkhead(maxConcurrent: 10, maxQueued: 50, queueTimeout: .seconds(5)).component,
            ]
        case .fastCache:
            [
                Timeout(.milliseconds(50), mode: .cooperative).component,
                CircuitBreaker(failureRate: 0.5, minimumCalls: 50, window: .count(200), openDuration: .seconds(5)).component,
                Bulkhead(maxConcurrent: 500).component,
            ]
        case .messageProducer:
            [
                Timeout(.seconds(30)).component,
                Retry(
                    maxAttempts: 5, backoff: .exponential, baseDelay: .milliseconds(200), maxDelay: .seconds(20),
                    jitter: .full, budgetRatio: 0.3
                ).component,
                CircuitBreaker(failureRate: 0.5, minimumCalls: 20, window: .count(100), openDuration: .seconds(30)).component,
                Bulkhead(maxConcurrent: 50, maxQueued: 500, queueTimeout: .seconds(10)).component,
            ]
        }
    }
}
