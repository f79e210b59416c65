extension Pipeline {
    /// The rate limiter's limits and free permits now, or `nil` when the pipeline has no rate limiter.
    ///
    /// Reads the live knobs and the limiter's state under its short lock; takes
    /// no permit and changes nothing a call would see.
    public func rateLimitStatus() -> RateLimitStatus? {
        guard let gate = rateLimiter else { return nil }
        let limits = gate.limits(knobs.read(), shadow: false)
        let available = gate.limiter.available(now: time.now(), limits: limits)
        let capacity = gate.isTokenBucket ? max(1, limits.burst) : limits.rate * Double(max(1_000_000, limits.window)) * 1e-9
        return RateLimitStatus(rate: limits.rate, capacity: capacity, available: min(available, capacity))
    }
}
