/// What one window saw: the fields a meta-policy reads as
/// `state.pipelines[p].windows[w]`.
///
/// With no traffic every field is `0` (never NaN). `successes + failures ==
/// calls`; `timeouts` and `rejections` are parts of `failures`. Latencies are
/// in seconds. In shadow windows, `unknown` counts calls whose shadow outcome
/// cannot be known; they are not part of `calls`.
public struct WindowStats: Sendable, Hashable {
    /// Calls that entered the pipeline (judged calls, in shadow windows).
    public var calls: Int
    /// Calls that returned a value.
    public var successes: Int
    /// Calls that failed, timed out or were rejected.
    public var failures: Int
    /// Calls ended by a timeout policy (part of `failures`).
    public var timeouts: Int
    /// Calls refused by a breaker, bulkhead or rate limiter (part of `failures`).
    public var rejections: Int
    /// Calls refused by a circuit breaker (part of `rejections`).
    public var breakerRejections: Int
    /// Calls refused by a bulkhead (part of `rejections`).
    public var bulkheadRejections: Int
    /// Calls refused by a rate limiter (part of `rejections`).
    public var rateLimiterRejections: Int
    /// Shadow windows: calls whose shadow outcome cannot be known.
    public var unknown: Int
    /// `failures / calls`, or 0 without calls.
    public var errorRate: Double
    /// Median latency, seconds.
    public var p50: Double
    /// 90th percentile latency, seconds.
    public var p90: Double
    /// 99th percentile latency, seconds.
    public var p99: Double
    /// Largest latency, seconds.
    public var max: Double

    /// A window with no traffic.
    public static let zero = WindowStats(
        calls: 0, successes: 0, failures: 0, timeouts: 0, rejections: 0, breakerRejections: 0,
        bulkheadRejections: 0, rateLimiterRejections: 0, unknown: 0, errorRate: 0, p50: 0, p90: 0, p99: 0, max: 0)

    /// Makes window statistics.
    public init(
        calls: Int, successes: Int, failures: Int, timeouts: Int, rejections: Int,
        breakerRejections: Int, bulkheadRejections: Int, rateLimiterRejections: Int, unknown: Int,
        errorRate: Double, p50: Double, p90: Double, p99: Double, max: Double
    ) {
        self.calls = calls
        self.successes = successes
        self.failures = failures
        self.timeouts = timeouts
        self.rejections = rejections
        self.breakerRejections = breakerRejections
        self.bulkheadRejections = bulkheadRejections
        self.rateLimiterRejections = rateLimiterRejections
        self.unknown = unknown
        self.errorRate = errorRate
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }
}
