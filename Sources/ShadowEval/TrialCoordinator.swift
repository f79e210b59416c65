import Resilience

/// Runs trials against a knob store: applies each ``TrialAction`` as one atomic
/// ``TrialKnobStore/apply(_:)`` (so no call sees half a trial) and forwards
/// events to a ``TrialEventSink`` after their changes are applied.
///
/// If the store refuses a change, the trial keeps its state from before the
/// call and the error is thrown as ``TrialError/knob(_:)``; nothing of the
/// refused change is applied and no event is reported.
public final class TrialCoordinator: Sendable {
    private let store: any TrialKnobStore
    private let sink: any TrialEventSink
    private let state = Locked<[String: ShadowTrial]>([:])

    /// Makes a coordinator over `store` reporting to `sink`.
    public init(store: any TrialKnobStore, sink: any TrialEventSink) {
        self.store = store
        self.sink = sink
    }

    /// Every trial known to the coordinator (running or ended), by name.
    public var trials: [String: ShadowTrial] { state.withLock { $0 } }

    /// The trial with this name.
    public func trial(named name: String) -> ShadowTrial? { state.withLock { $0[name] } }

    /// Starts a trial: reads its knobs' live values, applies its shadows in one
    /// step, and reports `started`. A trial that has ended may be replaced by one
    /// of the same name. `totals` begin a sequential trial's test (see ``ShadowTrial/start(_:now:liveValues:totals:)``).
    @discardableResult
    public func start(_ configuration: TrialConfiguration, now: Int64, totals: TrialTotals? = nil) throws(TrialError) -> ShadowTrial {
        try state.withLock { (trials: inout [String: ShadowTrial]) throws(TrialError) -> ShadowTrial in
            if let existing = trials[configuration.name], !existing.status.isFinal {
                throw .duplicateName(configuration.name)
            }
            try configuration.validate()
            var live: [String: Double] = [:]
            for knob in configuration.params.keys {
                do throws(KnobError) { live[knob] = try store.value(knob) } catch { throw .knob(error) }
            }
            let (trial, step) = try ShadowTrial.start(configuration, now: now, liveValues: live, totals: totals)
            try perform(step, trial: trial)
            trials[configuration.name] = trial
            return trial
        }
    }

    /// Puts back a trial read from a state file, without touching the knobs
    /// (their values are restored with the rest of the state) and without
    /// reporting events. A running trial of the same name is replaced.
    public func restore(_ trial: ShadowTrial) {
        state.withLock { $0[trial.name] = trial }
    }

    /// Evaluates a trial with the live and shadow windows as of `now`, applies
    /// what it asks for and reports its events. Returns the trial's new state.
    /// `totals` (the pipeline's running totals) are what a sequential trial judges.
    @discardableResult
    public func evaluate(
        _ name: String, now: Int64, live: WindowStats, shadow: WindowStats,
        liveLatencies: [Double]? = nil, shadowLatencies: [Double]? = nil, totals: TrialTotals? = nil
    ) throws(TrialError) -> ShadowTrial {
        try update(name) { trial in
            trial.evaluate(
                now: now, live: live, shadow: shadow, liveLatencies: liveLatencies, shadowLatencies: shadowLatencies,
                totals: totals)
        }
    }

    /// Holds a trial while automation is frozen (see ``ShadowTrial/hold(now:reason:)``).
    @discardableResult
    public func hold(_ name: String, now: Int64, reason: String) throws(TrialError) -> ShadowTrial {
        try update(name) { trial in trial.hold(now: now, reason: reason) }
    }

    /// Ends a trial by command (see ``ShadowTrial/abort(now:reason:)``).
    @discardableResult
    public func abort(_ name: String, now: Int64, reason: String) throws(TrialError) -> ShadowTrial {
        try update(name) { trial in trial.abort(now: now, reason: reason) }
    }

    private func update(_ name: String, _ body: (inout ShadowTrial) -> TrialStep) throws(TrialError) -> ShadowTrial {
        try state.withLock { (trials: inout [String: ShadowTrial]) throws(TrialError) -> ShadowTrial in
            guard var trial = trials[name] else { throw .unknownTrial(name) }
            let step = body(&trial)
            try perform(step, trial: trial)
            trials[name] = trial
            return trial
        }
    }

    /// Applies every action (one atomic store step each), then reports every event.
    private func perform(_ step: TrialStep, trial: ShadowTrial) throws(TrialError) {
        for action in step.actions {
            let operations = Self.operations(for: action)
            if operations.isEmpty { continue }
            do throws(KnobError) { try store.apply(operations) } catch { throw .knob(error) }
        }
        for event in step.events { sink.record(event, trial: trial) }
    }

    /// The registry operations of one action, knobs in name order.
    public static func operations(for action: TrialAction) -> [KnobOperation] {
        switch action {
        case .applyShadows(let values): values.sorted { $0.key < $1.key }.map { .setShadow($0.key, $0.value) }
        case .promote(let knobs): knobs.sorted().map { .promote($0) }
        case .rollback(let values): values.sorted { $0.key < $1.key }.map { .set($0.key, $0.value) }
        case .clearShadows(let knobs): knobs.sorted().map { .clearShadow($0) }
        case .none: []
        }
    }
}
