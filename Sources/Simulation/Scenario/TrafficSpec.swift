import Resilience
import Sentinel

/// A pipeline's arrivals: a Poisson process whose rate follows a pattern.
public struct TrafficSpec: Sendable, Hashable {
    /// Requests per second.
    public var rate: Double
    public var pattern: TrafficPattern
    /// Calls carry one of this many sticky keys (nil: no keys).
    public var keys: Int?

    public init(rate: Double, pattern: TrafficPattern = .constant, keys: Int? = nil) {
        self.rate = rate
        self.pattern = pattern
        self.keys = keys
    }
}
