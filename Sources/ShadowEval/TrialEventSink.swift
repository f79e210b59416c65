/// Receives a trial's events once their knob changes have been applied.
///
/// The Sentinel module implements it to write the audit (`trial.promote`,
/// `trial.rollback`, `trial.abort`, actor `sentinel` for automatic changes)
/// and `state.trials[name]`. Calls come from whoever drives the
/// ``TrialCoordinator``, in order, while the coordinator holds its lock: an
/// implementation must be quick and must not call back into the coordinator.
public protocol TrialEventSink: AnyObject, Sendable {
    /// Records one event; `trial` is the trial's state after the whole step
    /// that produced it (the event's own status is ``TrialEvent/status``).
    func record(_ event: TrialEvent, trial: ShadowTrial)
}
