/// The limits a rate limiter enforces, as one call reads them from its knobs.
public struct RateLimits: Sendable, Hashable {
    /// Permits per second.
    public var rate: Double
    /// Token bucket: most permits saved up for a burst.
    public var burst: Double
    /// Sliding window: the window length in nanoseconds (`rate × window` permits per window).
    public var window: Int64

    /// Makes limits.
    public init(rate: Double, burst: Double, window: Int64) {
        self.rate = rate
        self.burst = burst
        self.window = window
    }
}

/// What a rate limiter decided for one request.
public struct RateDecision: Sendable, Hashable {
    /// Whether the request may go ahead.
    public var allowed: Bool
    /// When refused: how long until enough permits are available, nanoseconds.
    public var retryAfter: Int64

    /// Allowed.
    public static let allow = RateDecision(allowed: true, retryAfter: 0)

    /// Makes a decision.
    public init(allowed: Bool, retryAfter: Int64) {
        self.allowed = allowed
        self.retryAfter = retryAfter
    }
}

/// A rate limiter a pipeline can use: local (``TokenBucketLimiter``,
/// ``SlidingWindowLimiter``) or, later, one backed by a shared store.
///
/// Implementations must be safe to call from many tasks at once and must not
/// suspend: the decision is made synchronously on the request path.
public protocol RateLimiter: Sendable {
    /// Takes `permits` at instant `now` (nanoseconds) if the limits allow.
    func acquire(_ permits: Int, now: Int64, limits: RateLimits) -> RateDecision
    /// Permits that could be taken at `now` without refusal.
    func available(now: Int64, limits: RateLimits) -> Double
}
