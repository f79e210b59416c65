import Resilience

/// A snapshot of everything a rule may look at: every pipeline's windows,
/// breaker, bulkhead and rate limiter, every knob, and what later modules
/// contribute (trials).
///
/// Taking one is cheap: it holds the pipelines and the instant, and window
/// statistics (with their percentiles) are computed when read, all at that
/// same instant, so one pipeline's figures are consistent with each other
/// and a rule that reads 10 of 1,000 pipelines pays for 10.
public struct SystemState: Sendable {
    /// The instant windows are computed at, in the pipelines' nanoseconds.
    public let instant: Int64
    /// `instant` in seconds: the `state.now` scripts see.
    public var now: Double { Double(instant) / 1e9 }
    /// The pipelines, by name; read into a ``PipelineState`` when asked for.
    private let directory: [String: Pipeline]
    /// Pipeline names in registration order.
    public let pipelineNames: [String]
    /// Automation is frozen by an operator.
    public var frozen: Bool
    /// Shadow trials by name (filled by the trial module).
    public var trials: [String: JSONValue]
    /// `state.fleet`: `{ instances, leader, term }` (one process: itself).
    public var fleet: [String: JSONValue]
    /// Where pipelines' statistics are read from instead of their own windows
    /// (a fleet's leader: the fleet's merged statistics); nil: their own.
    public let statistics: (any PipelineStatisticsSource)?

    /// `state.fleet` of a process that is not part of a fleet.
    public static let singleProcessFleet: [String: JSONValue] = ["instances": 1, "leader": "local", "term": 0]

    /// A snapshot of `pipelines` (names in order) at `instant`. Taking it is
    /// O(1): each pipeline's breaker, bulkhead and knob values are read when
    /// the pipeline is first asked for, and its windows when they are read,
    /// always at `instant`; a rule that reads 10 of 1,000 pipelines pays for 10.
    public init(
        instant: Int64, names: [String], pipelines: [String: Pipeline], frozen: Bool = false,
        trials: [String: JSONValue] = [:], fleet: [String: JSONValue] = SystemState.singleProcessFleet,
        statistics: (any PipelineStatisticsSource)? = nil
    ) {
        self.instant = instant
        self.statistics = statistics
        directory = pipelines
        pipelineNames = names
        self.frozen = frozen
        self.trials = trials
        self.fleet = fleet
    }

    /// One pipeline, read now at the snapshot's instant.
    public func pipeline(_ name: String) -> PipelineState? {
        directory[name].map { PipelineState(pipeline: $0, instant: instant, statistics: statistics) }
    }

    /// Every pipeline by name (reads them all: prefer ``pipeline(_:)``).
    public var pipelines: [String: PipelineState] {
        directory.mapValues { PipelineState(pipeline: $0, instant: instant, statistics: statistics) }
    }

    /// A knob's metadata and values, by full name (`checkout.retry.max_attempts`).
    public func parameter(_ name: String) -> ParameterInfo? {
        guard let dot = name.firstIndex(of: "."), let pipeline = pipeline(String(name[..<dot])) else { return nil }
        return pipeline.parameter(name)
    }

    // MARK: - Queries

    /// The error rate of a pipeline over a window; 0 with no traffic or no such pipeline.
    public func errorRate(_ pipeline: String, _ window: StatisticsWindow) -> Double {
        self.pipeline(pipeline)?.window(window).errorRate ?? 0
    }

    /// A latency percentile (`0.5`, `0.9`, `0.99`, `1` for the maximum) in seconds; 0 with no traffic.
    public func percentile(_ pipeline: String, _ window: StatisticsWindow, _ quantile: Double) -> Double {
        guard let stats = self.pipeline(pipeline)?.window(window) else { return 0 }
        switch quantile {
        case ..<0.75: return stats.p50
        case ..<0.95: return stats.p90
        case ..<1: return stats.p99
        default: return stats.max
        }
    }

    /// The breaker state of a pipeline, nil when it has no breaker.
    public func breakerState(_ pipeline: String) -> CircuitState? {
        self.pipeline(pipeline)?.breaker?.state
    }
}

/// One pipeline in a ``SystemState``: cheap fields read at snapshot time,
/// windows computed when asked, at the snapshot's instant (or, for the
/// fleet's merged statistics, at the end of their latest slice).
public struct PipelineState: Sendable {
    public let pipeline: Pipeline
    public let instant: Int64
    /// The windows its statistics are read from: its own, or the fleet's.
    public let statistics: PipelineStatistics
    public var name: String { pipeline.name }
    public let breaker: BreakerState?
    public let bulkhead: BulkheadState?
    /// The pipeline's knob values as one consistent read (an atomic load).
    public let knobs: KnobSnapshot

    public init(pipeline: Pipeline, instant: Int64, statistics source: (any PipelineStatisticsSource)? = nil) {
        self.pipeline = pipeline
        self.instant = instant
        statistics = source?.statistics(of: pipeline) ?? .local(pipeline, instant: instant)
        breaker = pipeline.breaker.map { BreakerState(state: $0.state, shadowState: $0.shadowState) }
        bulkhead = pipeline.bulkhead.map { BulkheadState(inUse: $0.inUse, queued: $0.queued, capacity: $0.capacity) }
        knobs = pipeline.knobs.read()
    }

    /// Every knob of the pipeline with its value at the snapshot (`version` is
    /// the version of the pipeline's knob snapshot).
    public var parameters: [ParameterInfo] {
        pipeline.knobs.descriptors.indices.map(info)
    }

    /// One knob by full name, with its value at the snapshot.
    public func parameter(_ name: String) -> ParameterInfo? {
        pipeline.knobs.index(of: name).map(info)
    }

    private func info(_ index: Int) -> ParameterInfo {
        ParameterInfo(
            descriptor: pipeline.knobs.descriptors[index], value: knobs.value(index), shadow: knobs.shadowValue(index),
            version: knobs.version)
    }

    /// Live statistics over a window.
    public func window(_ window: StatisticsWindow) -> WindowStats {
        statistics.live.stats(window, now: statistics.instant)
    }

    /// What the shadow configuration would have seen over a window.
    public func shadowWindow(_ window: StatisticsWindow) -> WindowStats {
        statistics.shadow.stats(window, now: statistics.instant)
    }

    /// The names of the traffic-split variants, in declaration order.
    public var variantNames: [String] { statistics.variants.map(\.name) }

    /// One variant's statistics over a window, nil for an unknown variant.
    public func variantWindow(_ variant: String, _ window: StatisticsWindow) -> WindowStats? {
        statistics.variants.first { $0.name == variant }?.windows.stats(window, now: statistics.instant)
    }
}

/// A breaker's state in a snapshot.
public struct BreakerState: Sendable, Hashable {
    public var state: CircuitState
    /// What the shadow breaker's state would be, when a breaker knob has a shadow.
    public var shadowState: CircuitState?
}

/// A bulkhead's use in a snapshot.
public struct BulkheadState: Sendable, Hashable {
    public var inUse: Int
    public var queued: Int
    public var capacity: Int
}
