/// What a pipeline's rate limiter allows at one instant, for callers that
/// report it (for example the HTTP `RateLimit` fields).
///
/// Read with ``Pipeline/rateLimitStatus()``; reading takes no permit.
public struct RateLimitStatus: Sendable, Hashable {
    /// Permits per second (the `rate` knob).
    public var rate: Double
    /// The most permits that can be taken at once: the token bucket's `burst`,
    /// or `rate × window` for a sliding window.
    public var capacity: Double
    /// Permits that could be taken now without refusal (`0...capacity`).
    public var available: Double

    /// Makes a status.
    public init(rate: Double, capacity: Double, available: Double) {
        self.rate = rate
        self.capacity = capacity
        self.available = available
    }

    /// The time it takes to regain `capacity` permits when no call comes in
    /// (`(capacity - available) / rate`): exact for a token bucket, an upper
    /// estimate for a sliding window, whose older permits fade sooner.
    public var timeToFull: Duration {
        guard rate > 0 else { return .zero }
        return .secondsClamped(max(0, capacity - available) / rate)
    }

    /// The length of time in which `capacity` permits come back (`capacity / rate`):
    /// the window of a sliding-window limiter, the full refill time of a token bucket.
    public var refillPeriod: Duration {
        guard rate > 0 else { return .zero }
        return .secondsClamped(capacity / rate)
    }
}
