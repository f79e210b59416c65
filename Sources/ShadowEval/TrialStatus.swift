/// Where a trial is in its lifecycle, as `state.trials[name].status`.
public enum TrialStatus: String, Sendable, Hashable, CaseIterable {
    /// Shadows applied; evaluations are accumulating a stable window.
    case running
    /// The last evaluation was inconclusive (too few samples): nothing is promoted.
    case holding
    /// Promoted; live is compared against the pre-promotion baseline, and the
    /// previous values are kept for a rollback.
    case watching
    /// Promoted and the watch period passed (final).
    case promoted
    /// Shadows cleared without promotion: K violations, or aborted by command (final).
    case aborted
    /// Promoted, then the previous values were restored (final).
    case rolledBack = "rolled_back"

    /// Whether the trial has ended.
    public var isFinal: Bool {
        self == .promoted || self == .aborted || self == .rolledBack
    }
}
