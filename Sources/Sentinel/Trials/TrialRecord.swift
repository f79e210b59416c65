import ShadowEval

/// Everything the Sentinel keeps about one shadow trial, in one record: the
/// state machine, what was asked for, and the bookkeeping around it.
struct TrialRecord: Sendable {
    /// The state machine.
    var trial: ShadowTrial
    /// The `trial.start` arguments it came from (the cost guard's limits among them).
    var request: TrialRequest
    /// The pipeline its knobs belong to.
    var pipeline: String
    /// What cannot be judged in the direction the trial goes (said at the start).
    var warnings: [String]
    /// Calls judged under the shadows so far (the cost guard's count).
    var shadowCalls = 0
    /// Whether this freeze's held rollback is in the audit already.
    var heldRollbackAudited = false
    /// The most recent event, for `state.trials[name].last_event`.
    var lastEvent: TrialEvent?

    var name: String { trial.name }
}
