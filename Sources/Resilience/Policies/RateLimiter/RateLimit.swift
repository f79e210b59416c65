/// Refuses calls beyond a rate; a refusal carries `retryAfter`.
///
/// Knobs (under `<pipeline>.ratelimit.`): `rate` (permits per second,
/// 0.001...10000000), and `burst` (token bucket, 1...10000000 permits) or
/// `window` (sliding window, seconds, 0.001...3600).
///
/// Shadow: a second limiter with the shadow limits sees the same requests; a
/// call it would have refused is a shadow rejection; a live refusal it would
/// have allowed is unknown.
public struct RateLimit: PipelinePolicy {
    /// The algorithm.
    public enum Algorithm: Sendable, Hashable {
        /// Token bucket: `rate` per second, saving up to `burst`.
        case tokenBucket(burst: Double)
        /// Sliding window: `rate × window` per window.
        case slidingWindow(window: Duration)
    }

    /// Initial permits per second.
    public var rate: Double
    /// The algorithm and its second parameter.
    public var algorithm: Algorithm
    /// Makes the live and shadow limiters (a shared store can plug in here).
    public var makeLimiter: @Sendable () -> any RateLimiter

    /// Makes a rate-limit policy.
    public init(rate: Double, algorithm: Algorithm = .tokenBucket(burst: 1), makeLimiter: (@Sendable () -> any RateLimiter)? = nil) {
        self.rate = rate
        self.algorithm = algorithm
        switch algorithm {
        case .tokenBucket: self.makeLimiter = makeLimiter ?? { TokenBucketLimiter() }
        case .slidingWindow: self.makeLimiter = makeLimiter ?? { SlidingWindowLimiter() }
        }
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.rateLimit(self)) }

    static func knobs(_ pipeline: String, _ spec: RateLimit) -> [KnobDescriptor] {
        let p = "\(pipeline).ratelimit"
        let rate = KnobDescriptor(
            name: "\(p).rate", kind: .rate, minimum: 0.001, maximum: 10_000_000,
            defaultValue: spec.rate, description: "Permits per second", refusesZero: true)
        switch spec.algorithm {
        case .tokenBucket(let burst):
            return [
                rate,
                KnobDescriptor(
                    name: "\(p).burst", kind: .number, minimum: 1, maximum: 10_000_000,
                    defaultValue: burst, description: "Most permits saved for a burst"),
            ]
        case .slidingWindow(let window):
            return [
                rate,
                KnobDescriptor(
                    name: "\(p).window", kind: .duration, minimum: 0.001, maximum: 3600,
                    defaultValue: window.secondsDouble, description: "Sliding window length", refusesZero: true),
            ]
        }
    }
}
