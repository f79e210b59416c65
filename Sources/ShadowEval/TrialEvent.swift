/// Something that happened to a trial, with the evidence behind it.
///
/// The Sentinel module writes these to the audit (`trial.promote`,
/// `trial.rollback`, `trial.abort`, actor `sentinel` when automatic) and to
/// `state.trials[name]`.
public struct TrialEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Shadows were applied.
        case started
        /// The stable window (or the watch period) began again: after a
        /// violation, an inconclusive evaluation or a stall.
        case windowRestarted = "window_restarted"
        /// A criterion was violated.
        case violation
        /// Too few samples to judge.
        case inconclusive
        /// The shadows became live (watching begins, or the trial ends without a watch).
        case promoted
        /// The watch period passed without regression: the trial ends promoted.
        case watchCompleted = "watch_completed"
        /// The trial ended without promotion.
        case aborted
        /// The previous values were restored.
        case rolledBack = "rolled_back"
        /// Automation was frozen: the trial holds (nothing is judged or
        /// applied), and its window restarts after the unfreeze.
        case held
    }

    /// The trial's name.
    public var trial: String
    /// What happened.
    public var kind: Kind
    /// When, in nanoseconds on the caller's clock.
    public var time: Int64
    /// The trial's status after the event.
    public var status: TrialStatus
    /// Numbers and strings that justify the event (windows, test results, reasons).
    public var evidence: Evidence

    /// Makes an event.
    public init(trial: String, kind: Kind, time: Int64, status: TrialStatus, evidence: Evidence) {
        self.trial = trial
        self.kind = kind
        self.time = time
        self.status = status
        self.evidence = evidence
    }
}
