import Resilience

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a simulated backend takes to answer, in seconds.
public indirect enum LatencyDistribution: Sendable, Hashable {
    /// Always the same.
    case fixed(Double)
    /// Evenly spread between two bounds.
    case uniform(min: Double, max: Double)
    /// Log-normal, fixed by its median and its 99th percentile.
    case logNormal(p50: Double, p99: Double)
    /// Two populations: a `slowFraction` of answers come from `slow`, the rest from `fast`.
    case bimodal(fast: LatencyDistribution, slow: LatencyDistribution, slowFraction: Double)

    /// The standard normal quantile at 0.99.
    static let z99 = 2.326_347_874_040_841

    /// Draws one latency in seconds.
    public func sample(_ random: inout Xoshiro256StarStar) -> Double {
        switch self {
        case .fixed(let value):
            return value
        case .uniform(let low, let high):
            return low + (high - low) * random.nextUnit()
        case .logNormal(let p50, let p99):
            guard p99 > p50, p50 > 0 else { return p50 }
            let sigma = log(p99 / p50) / Self.z99
            return p50 * exp(sigma * Self.standardNormal(&random))
        case .bimodal(let fast, let slow, let slowFraction):
            return random.nextUnit() < slowFraction ? slow.sample(&random) : fast.sample(&random)
        }
    }

    /// Box–Muller: one standard normal draw from two uniform ones.
    static func standardNormal(_ random: inout Xoshiro256StarStar) -> Double {
        let u1 = 1 - random.nextUnit()  // in (0, 1]: log is finite
        let u2 = random.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// `lognormal p50 40ms p99 200ms`, for the timeline.
    public var summary: String {
        switch self {
        case .fixed(let value): "fixed \(formatSeconds(value))"
        case .uniform(let low, let high): "uniform \(formatSeconds(low))–\(formatSeconds(high))"
        case .logNormal(let p50, let p99): "lognormal p50 \(formatSeconds(p50)) p99 \(formatSeconds(p99))"
        case .bimodal(let fast, let slow, let fraction):
            "bimodal (\(fast.summary) | \(formatPercent(fraction)) \(slow.summary))"
        }
    }
}
