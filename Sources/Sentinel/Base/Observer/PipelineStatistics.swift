import Resilience

/// The windows one pipeline's statistics are read from, and the instant to
/// read them at: the pipeline's own (a single process, a follower), or the
/// fleet's, merged from every instance's slices (a fleet's leader).
public struct PipelineStatistics: Sendable {
    /// The pipeline's live calls.
    public let live: OutcomeWindows
    /// What its shadow configuration would have seen.
    public let shadow: OutcomeWindows
    /// Each traffic-split variant's calls, in declaration order.
    public let variants: [(name: String, windows: OutcomeWindows)]
    /// The instant the windows are read at, on their own clock.
    public let instant: Int64
    /// Where the totals come from: marks taken on other statistics do not apply to these.
    public let origin: StatisticsOrigin
    /// Each instance's latest slice (a fleet's leader; empty otherwise),
    /// built when read: most rules never look.
    public var instances: [String: InstanceSlice] { instanceViews() }
    private let instanceViews: @Sendable () -> [String: InstanceSlice]

    public init(
        live: OutcomeWindows, shadow: OutcomeWindows, variants: [(name: String, windows: OutcomeWindows)],
        instant: Int64, origin: StatisticsOrigin, instances: [String: InstanceSlice] = [:]
    ) {
        self.init(live: live, shadow: shadow, variants: variants, instant: instant, origin: origin) { instances }
    }

    /// Statistics whose per-instance views are built by `instances` when read.
    public init(
        live: OutcomeWindows, shadow: OutcomeWindows, variants: [(name: String, windows: OutcomeWindows)],
        instant: Int64, origin: StatisticsOrigin, instances: @escaping @Sendable () -> [String: InstanceSlice]
    ) {
        self.live = live
        self.shadow = shadow
        self.variants = variants
        self.instant = instant
        self.origin = origin
        instanceViews = instances
    }

    /// A pipeline's own windows, read at `instant`.
    public static func local(_ pipeline: Pipeline, instant: Int64) -> PipelineStatistics {
        PipelineStatistics(
            live: pipeline.windows, shadow: pipeline.shadowWindows, variants: pipeline.variantWindows, instant: instant,
            origin: .pipeline(ObjectIdentifier(pipeline)))
    }

    /// One side by the names `sentinel.compare` takes: `"live"`, `"shadow"` or a variant.
    public func side(_ name: String) -> OutcomeWindows? {
        switch name {
        case "live": live
        case "shadow": shadow
        default: variants.first { $0.name == name }?.windows
        }
    }

    /// One side's exact totals since the windows were made.
    public func totals(_ side: StatisticsSide) -> OutcomeTotals {
        switch side {
        case .live: live.totals()
        case .shadow: shadow.totals()
        case .variant(let name): variants.first { $0.name == name }?.windows.totals() ?? .zero
        }
    }
}

/// Where statistics come from, so that a mark taken on some is never read
/// against others: a pipeline (registered again, it is another), or one
/// fleet merge (each leader's term begins a new one).
public enum StatisticsOrigin: Sendable, Hashable {
    case pipeline(ObjectIdentifier)
    case merge(UInt64)
}

/// What one instance recorded on one pipeline in its latest slice (a fleet's
/// per-instance view: `state.pipelines[p].instances[id]`).
public struct InstanceSlice: Sendable, Hashable {
    /// The slice it is of.
    public let slice: Int64
    /// Live calls.
    public let live: OutcomeDelta
    /// Shadow judgements.
    public let shadow: OutcomeDelta
    /// Each variant's calls.
    public let variants: [String: OutcomeDelta]

    public init(slice: Int64, live: OutcomeDelta, shadow: OutcomeDelta, variants: [String: OutcomeDelta]) {
        self.slice = slice
        self.live = live
        self.shadow = shadow
        self.variants = variants
    }
}

/// Gives the statistics a snapshot reads in place of the pipelines' own
/// (fleet mode's leader gives the fleet's merged ones).
public protocol PipelineStatisticsSource: Sendable {
    /// The statistics to read for `pipeline`, nil to read its own windows.
    func statistics(of pipeline: Pipeline) -> PipelineStatistics?
}
