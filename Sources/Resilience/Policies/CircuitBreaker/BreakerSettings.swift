/// The tunable settings of a circuit breaker, as one call reads them.
public struct BreakerSettings: Sendable, Hashable {
    /// Open when the window's failure rate reaches this fraction (`0...1`).
    public var failureRateThreshold: Double
    /// Open when the window's slow-call rate reaches this fraction (`0...1`).
    public var slowCallRateThreshold: Double
    /// A call at least this long (nanoseconds) is slow.
    public var slowCallDuration: Int64
    /// The window must hold at least this many calls before rates are judged.
    public var minimumCalls: Int
    /// How long the breaker stays open the first time (nanoseconds).
    public var openDuration: Int64
    /// Each consecutive opening multiplies the open duration by this (`1` = no growth).
    public var openDurationMultiplier: Double
    /// The open duration never exceeds this (nanoseconds).
    public var maxOpenDuration: Int64
    /// Trial calls let through while half-open.
    public var halfOpenCalls: Int

    /// Makes settings.
    public init(
        failureRateThreshold: Double = 0.5,
        slowCallRateThreshold: Double = 1.0,
        slowCallDuration: Int64 = 60_000_000_000,
        minimumCalls: Int = 20,
        openDuration: Int64 = 30_000_000_000,
        openDurationMultiplier: Double = 1,
        maxOpenDuration: Int64 = 300_000_000_000,
        halfOpenCalls: Int = 5
    ) {
        self.failureRateThreshold = failureRateThreshold
        self.slowCallRateThreshold = slowCallRateThreshold
        self.slowCallDuration = slowCallDuration
        self.minimumCalls = minimumCalls
        self.openDuration = openDuration
        self.openDurationMultiplier = openDurationMultiplier
        self.maxOpenDuration = maxOpenDuration
        self.halfOpenCalls = halfOpenCalls
    }
}
