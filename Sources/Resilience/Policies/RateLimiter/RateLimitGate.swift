/// The shell of a rate-limit policy in a pipeline: a live and a shadow limiter.
public final class RateLimitGate: Sendable {
    /// The live limiter.
    public let limiter: any RateLimiter
    /// The shadow limiter, fed the same requests with the shadow limits.
    public let shadowLimiter: any RateLimiter
    let slots: (rate: Int, second: Int)
    let isTokenBucket: Bool

    init(spec: RateLimit, firstSlot: Int) {
        limiter = spec.makeLimiter()
        shadowLimiter = spec.makeLimiter()
        slots = (firstSlot, firstSlot + 1)
        if case .tokenBucket = spec.algorithm { isTokenBucket = true } else { isTokenBucket = false }
    }

    @inline(__always)
    func limits(_ snapshot: KnobSnapshot, shadow: Bool) -> RateLimits {
        let rate = shadow ? snapshot.effectiveShadow(slots.rate) : snapshot.value(slots.rate)
        let second = shadow ? snapshot.effectiveShadow(slots.second) : snapshot.value(slots.second)
        return isTokenBucket
            ? RateLimits(rate: rate, burst: second, window: 1_000_000_000)
            : RateLimits(rate: rate, burst: 1, window: nanos(fromSeconds: second))
    }

    @inline(__always)
    func isShadowed(_ snapshot: KnobSnapshot) -> Bool {
        (snapshot.shadowMask >> UInt32(slots.rate)) & 0b11 != 0
    }
}
