import Resilience

/// A pipeline's running totals of both sides (``Resilience/OutcomeWindows/totals()``
/// of its live and shadow windows): what the sequential judge of a trial
/// subtracts from to count everything since its test began.
public struct TrialTotals: Sendable, Hashable {
    /// The live side's totals.
    public var live: OutcomeTotals
    /// The shadow side's totals.
    public var shadow: OutcomeTotals

    /// Makes totals.
    public init(live: OutcomeTotals, shadow: OutcomeTotals) {
        self.live = live
        self.shadow = shadow
    }

    /// What each side recorded after `earlier`.
    public func since(_ earlier: TrialTotals) -> TrialTotals {
        TrialTotals(live: live.since(earlier.live), shadow: shadow.since(earlier.shadow))
    }
}
