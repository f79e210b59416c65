/// How the delay between attempts grows.
public enum Backoff: String, Sendable, Hashable {
    /// Always `base_delay`.
    case constant
    /// `base_delay × n` after the n-th failed attempt.
    case linear
    /// `base_delay × multiplier^(n-1)` after the n-th failed attempt.
    case exponential
}

/// How the delay is randomized so that many callers do not retry in lockstep.
public enum Jitter: String, Sendable, Hashable {
    /// The computed delay exactly.
    case none
    /// Uniform in `0...delay`.
    case full
    /// `delay/2` plus uniform in `0...delay/2`.
    case equal
    /// Uniform in `base_delay...(previous delay × 3)` (AWS's "decorrelated jitter").
    case decorrelated
}

/// The tunable settings of a retry policy, as one call reads them.
public struct RetrySettings: Sendable, Hashable {
    /// Attempts in all, the first included (`1` = no retries).
    public var maxAttempts: Int
    /// First delay, seconds.
    public var baseDelay: Double
    /// Largest delay, seconds.
    public var maxDelay: Double
    /// Growth factor for exponential backoff.
    public var multiplier: Double
    /// How delays grow.
    public var backoff: Backoff
    /// How delays are randomized.
    public var jitter: Jitter

    /// Makes settings.
    public init(
        maxAttempts: Int = 3, baseDelay: Double = 0.1, maxDelay: Double = 10, multiplier: Double = 2,
        backoff: Backoff = .exponential, jitter: Jitter = .full
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.backoff = backoff
        self.jitter = jitter
    }
}

/// The synchronous core of retry: how long to wait before the next attempt.
public enum RetryCore {
    /// The delay in seconds after failed attempt `attempt` (1-based).
    ///
    /// - Parameters:
    ///   - previous: the previous delay (decorrelated jitter), `baseDelay` before the first.
    ///   - unit: a uniform random number in `0..<1`.
    @inlinable
    public static func delay(afterAttempt attempt: Int, previous: Double, settings: RetrySettings, unit: Double) -> Double {
        let base = max(0, settings.baseDelay)
        let cap = max(base, settings.maxDelay)
        var delay: Double
        switch settings.backoff {
        case .constant:
            delay = base
        case .linear:
            delay = base * Double(max(1, attempt))
        case .exponential:
            delay = base
            var step = 1
            while step < attempt && delay < cap {
                delay *= max(1, settings.multiplier)
                step += 1
            }
        }
        delay = min(delay, cap)
        switch settings.jitter {
        case .none:
            return delay
        case .full:
            return delay * unit
        case .equal:
            return delay / 2 + delay / 2 * unit
        case .decorrelated:
            let upper = max(base, previous * 3)
            return min(cap, base + (upper - base) * unit)
        }
    }
}
