import Resilience
import Sentinel

/// A simulated backend, or a pipeline that calls are passed on to.
public struct BackendSpec: Sendable {
    public var latency: LatencyDistribution
    /// The probability that an attempt fails with a backend error.
    public var errorRate: Double
    /// Requests served at once; above it requests wait in a FIFO queue (nil: unlimited).
    public var capacity: Int?
    /// Requests that may wait beyond `capacity`; more fail at once as overload (nil: unlimited).
    public var queueLimit: Int?
    /// Calls go through this pipeline instead (its policies and its backends).
    public var via: String?

    public init(
        latency: LatencyDistribution = .fixed(0.01), errorRate: Double = 0, capacity: Int? = nil,
        queueLimit: Int? = nil, via: String? = nil
    ) {
        self.latency = latency
        self.errorRate = errorRate
        self.capacity = capacity
        self.queueLimit = queueLimit
        self.via = via
    }
}
