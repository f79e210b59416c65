/// The synchronous core of a token bucket: refills at `rate` per second up to
/// `burst` tokens; each request takes its permits or is refused with the time
/// until enough tokens will be there.
public struct TokenBucketCore: Sendable, Hashable {
    /// Tokens in the bucket at `updatedAt`.
    public private(set) var tokens: Double
    /// When `tokens` was last brought up to date, nanoseconds.
    public private(set) var updatedAt: Int64?

    /// Makes a bucket that starts full (at the first request's burst size).
    public init() { tokens = .nan }

    private mutating func refill(now: Int64, limits: RateLimits) {
        let burst = max(1, limits.burst)
        guard let last = updatedAt, !tokens.isNaN else {
            tokens = burst
            updatedAt = now
            return
        }
        if now > last {
            tokens = min(burst, tokens + limits.rate * Double(now - last) * 1e-9)
            updatedAt = now
        }
        tokens = min(tokens, burst)
    }

    /// Takes `permits` tokens if there are enough.
    public mutating func acquire(_ permits: Int, now: Int64, limits: RateLimits) -> RateDecision {
        refill(now: now, limits: limits)
        let need = Double(permits)
        if tokens >= need {
            tokens -= need
            return .allow
        }
        guard limits.rate > 0 else { return RateDecision(allowed: false, retryAfter: .max) }
        let wait = (need - tokens) / limits.rate
        return RateDecision(allowed: false, retryAfter: nanos(fromSeconds: wait))
    }

    /// Tokens available at `now`.
    public mutating func available(now: Int64, limits: RateLimits) -> Double {
        refill(now: now, limits: limits)
        return tokens
    }
}
