import Resilience

/// A pipeline's running totals of both sides (``Resilience/OutcomeWindows/totals()``
/// of its live and shadow windows): what the sequential judge of a trial
/// subtracts from to count everything since its test began.
public struct TrialTotals: Sendable, Hashable {
    /// The live side's totals.
    public var live: OutcomeTotals
    /// The shadow side's totals.
    public var shadow: OutcomeTotals
    /// Which counters they come from (0: the pipeline's own; a fleet's merge has its own number). A test
    /// begun on some counters starts again when the totals come from others: their difference means nothing.
    public var source: UInt64

    /// Makes totals.
    public init(live: OutcomeTotals, shadow: OutcomeTotals, source: UInt64 = 0) {
        self.live = live
        self.shadow = shadow
        self.source = source
    }

    /// What each side recorded after `earlier`.
    public func since(_ earlier: TrialTotals) -> TrialTotals {
        TrialTotals(live: live.since(earlier.live), shadow: shadow.since(earlier.shadow), source: source)
    }
}
