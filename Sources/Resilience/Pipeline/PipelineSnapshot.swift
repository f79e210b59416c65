/// Everything an observer reads about one pipeline at one instant: what the
/// Lua API exposes as `state.pipelines[name]`.
public struct PipelineSnapshot: Sendable {
    /// A breaker's observable state.
    public struct BreakerStatus: Sendable, Hashable {
        /// The live state.
        public var state: CircuitState
        /// The shadow state machine's state, when a breaker knob has a shadow.
        public var shadowState: CircuitState?
        /// Calls in the live sliding window.
        public var windowCalls: Int
        /// Failures in the live sliding window.
        public var windowFailures: Int
    }

    /// A bulkhead's observable state.
    public struct BulkheadStatus: Sendable, Hashable {
        /// Permits held.
        public var inUse: Int
        /// Calls waiting.
        public var queued: Int
        /// Calls allowed at once.
        public var capacity: Int
    }

    /// A rate limiter's observable state.
    public struct RateLimiterStatus: Sendable, Hashable {
        /// Permits that could be taken now.
        public var available: Double
    }

    /// The pipeline's name.
    public var name: String
    /// When the snapshot was taken, nanoseconds on the pipeline's time source.
    public var time: Int64
    /// Live statistics by window.
    public var windows: [StatisticsWindow: WindowStats]
    /// Shadow statistics by window.
    public var shadowWindows: [StatisticsWindow: WindowStats]
    /// Statistics by traffic-split variant, then window.
    public var variants: [String: [StatisticsWindow: WindowStats]]
    /// The breaker, if any.
    public var breaker: BreakerStatus?
    /// The bulkhead, if any.
    public var bulkhead: BulkheadStatus?
    /// The rate limiter, if any.
    public var rateLimiter: RateLimiterStatus?
    /// Every knob's metadata and values.
    public var parameters: [ParameterInfo]
}

extension Pipeline {
    /// Reads everything an observer needs, without taking any lock the request path takes
    /// (windows, breaker and bulkhead state are atomics; knob metadata comes from the writer side).
    ///
    /// - Parameter now: the instant to compute windows at (default: the pipeline's time source now).
    public func snapshot(now: Int64? = nil) -> PipelineSnapshot {
        let now = now ?? time.now()
        let snapshot = knobs.read()
        var variants: [String: [StatisticsWindow: WindowStats]] = [:]
        for (variant, windows) in variantWindows { variants[variant] = windows.allStats(now: now) }
        return PipelineSnapshot(
            name: name,
            time: now,
            windows: windows.allStats(now: now),
            shadowWindows: shadowWindows.allStats(now: now),
            variants: variants,
            breaker: breaker.map { gate in
                let counts = gate.windowCounts
                return .init(state: gate.state, shadowState: gate.shadowState, windowCalls: counts.calls, windowFailures: counts.failures)
            },
            bulkhead: bulkhead.map { .init(inUse: $0.inUse, queued: $0.queued, capacity: $0.capacity) },
            rateLimiter: rateLimiter.map { .init(available: $0.limiter.available(now: now, limits: $0.limits(snapshot, shadow: false))) },
            parameters: knobs.entries())
    }
}

extension ParameterRegistry {
    /// Snapshots of every registered pipeline, in registration order.
    public func snapshots() -> [PipelineSnapshot] {
        pipelines.map { $0.snapshot() }
    }
}
