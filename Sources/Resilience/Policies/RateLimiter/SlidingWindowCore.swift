/// The synchronous core of a sliding-window limiter: at most `rate × window`
/// permits in any window, estimated from the current and previous fixed
/// windows (the previous one weighted by how much of it still overlaps).
public struct SlidingWindowCore: Sendable, Hashable {
    private var windowStart: Int64 = 0
    private var current: Double = 0
    private var previous: Double = 0
    private var windowLength: Int64 = 0

    /// Makes an empty limiter.
    public init() {}

    private mutating func advance(now: Int64, length: Int64) {
        if length != windowLength {
            // A new window length: keep the counts, re-anchor the window.
            windowLength = length
            windowStart = now - now % length
        }
        let elapsedWindows = (now - windowStart) / length
        if elapsedWindows >= 2 {
            previous = 0
            current = 0
            windowStart = now - now % length
        } else if elapsedWindows == 1 {
            previous = current
            current = 0
            windowStart += length
        }
    }

    private func estimate(now: Int64, length: Int64) -> Double {
        let into = Double(now - windowStart) / Double(length)
        return previous * max(0, 1 - into) + current
    }

    /// Takes `permits` if the window has room.
    public mutating func acquire(_ permits: Int, now: Int64, limits: RateLimits) -> RateDecision {
        let length = max(1_000_000, limits.window)
        advance(now: now, length: length)
        let limit = limits.rate * Double(length) * 1e-9
        let used = estimate(now: now, length: length)
        if used + Double(permits) <= limit {
            current += Double(permits)
            return .allow
        }
        // Room appears as the previous window's weight fades, or at the next window.
        let excess = used + Double(permits) - limit
        var wait = windowStart + length - now
        if previous > 0 {
            let fade = Int64(excess / previous * Double(length))
            wait = min(wait, max(1, fade))
        }
        return RateDecision(allowed: false, retryAfter: max(1, wait))
    }

    /// Permits that fit at `now`.
    public mutating func available(now: Int64, limits: RateLimits) -> Double {
        let length = max(1_000_000, limits.window)
        advance(now: now, length: length)
        return max(0, limits.rate * Double(length) * 1e-9 - estimate(now: now, length: length))
    }
}
