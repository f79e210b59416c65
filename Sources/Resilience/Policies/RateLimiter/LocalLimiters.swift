/// A process-local token bucket (``TokenBucketCore`` behind a short lock).
public final class TokenBucketLimiter: RateLimiter {
    private let core = Locked(TokenBucketCore())

    /// Makes a bucket that starts full.
    public init() {}

    /// Takes `permits` tokens if there are enough.
    public func acquire(_ permits: Int, now: Int64, limits: RateLimits) -> RateDecision {
        core.withLock { $0.acquire(permits, now: now, limits: limits) }
    }

    /// Tokens available at `now`.
    public func available(now: Int64, limits: RateLimits) -> Double {
        core.withLock { $0.available(now: now, limits: limits) }
    }
}

/// A process-local sliding-window limiter (``SlidingWindowCore`` behind a short lock).
public final class SlidingWindowLimiter: RateLimiter {
    private let core = Locked(SlidingWindowCore())

    /// Makes an empty limiter.
    public init() {}

    /// Takes `permits` if the window has room.
    public func acquire(_ permits: Int, now: Int64, limits: RateLimits) -> RateDecision {
        core.withLock { $0.acquire(permits, now: now, limits: limits) }
    }

    /// Permits that fit at `now`.
    public func available(now: Int64, limits: RateLimits) -> Double {
        core.withLock { $0.available(now: now, limits: limits) }
    }
}
