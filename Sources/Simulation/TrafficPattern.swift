#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a pipeline's request rate changes over the run.
public enum TrafficPattern: Sendable, Hashable {
    /// The base rate throughout.
    case constant
    /// Linear from the base rate to `to` over the whole run.
    case ramp(to: Double)
    /// The base rate until the first step, then each step's rate from its instant (seconds).
    case step([Step])
    /// `rate × (1 + amplitude × sin(2π t / period))`.
    case diurnal(period: Double, amplitude: Double)
    /// `rate × factor` during `[at, at + length)`.
    case spike(at: Double, length: Double, factor: Double)

    public struct Step: Sendable, Hashable {
        public var at: Double
        public var rate: Double

        public init(at: Double, rate: Double) {
            self.at = at
            self.rate = rate
        }
    }

    /// The request rate at `t` seconds into a run of `duration` seconds whose base rate is `rate`.
    public func rate(at t: Double, base rate: Double, duration: Double) -> Double {
        switch self {
        case .constant:
            return rate
        case .ramp(let target):
            guard duration > 0 else { return rate }
            return rate + (target - rate) * min(1, max(0, t / duration))
        case .step(let steps):
            var current = rate
            for step in steps where step.at <= t { current = step.rate }
            return current
        case .diurnal(let period, let amplitude):
            guard period > 0 else { return rate }
            return max(0, rate * (1 + amplitude * sin(2 * Double.pi * t / period)))
        case .spike(let at, let length, let factor):
            return t >= at && t < at + length ? rate * factor : rate
        }
    }
}
