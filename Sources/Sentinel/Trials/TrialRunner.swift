import Logging
import Metrics
import Resilience
import ShadowEval

/// Runs shadow trials through the control plane: `trial.start` and
/// `trial.abort`, evaluation on the trials' intervals against the pipeline's
/// live and shadow windows, the cost guard, the freeze, `state.trials`, and
/// the state file.
///
/// Every change a trial makes goes through ``ControlPlane/change(_:rules:by:record:)``:
/// a promotion passes the bounds, step and interval guards and the freeze, a
/// rollback the bounds and the freeze (``ChangeRules``), and each is audited
/// by the plane (`trial.promote`, `trial.rollback`, `trial.abort`, actor
/// `sentinel`). A refused change leaves the trial as it was before the
/// evaluation; it is logged, counted
/// (`sentinel_trial_refused_changes_total{action}`) and tried again at the
/// trial's next interval.
///
/// ```swift
/// let trials = TrialRunner(plane: plane, logger: logger)
/// trials.registerCommands()
/// // on a timer: let alerts = trials.evaluateDue()
/// ```
public final class TrialRunner: Sendable {
    let plane: ControlPlane
    let logger: Logger
    /// One record per trial, behind one lock: a trial's evaluation and its
    /// changes happen while the lock is held, so an abort cannot interleave.
    let records = Locked<[String: TrialRecord]>([:])
    private let refusals: [String: Counter]
    /// `sentinel_trial_status{trial, status}`: 1 for each trial's current status, 0 for the others.
    private let statusGauges = Locked<[String: [TrialStatus: Gauge]]>([:])
    /// Where trials read their pipeline's statistics (fleet mode's leader: the fleet's); nil: the pipeline's own.
    private let statisticsProvider = Locked<(@Sendable () -> (any PipelineStatisticsSource)?)?>(nil)

    public init(plane: ControlPlane, logger: Logger) {
        self.plane = plane
        self.logger = logger
        refusals = Dictionary(
            uniqueKeysWithValues: ["trial.promote", "trial.rollback", "trial.abort"].map {
                ($0, Counter(label: "sentinel_trial_refused_changes_total", dimensions: [("action", $0)]))
            })
    }

    /// Registers `trial.start` and `trial.abort` with the control plane (once).
    public func registerCommands() {
        for command: any Command in [TrialStartCommand(runner: self), TrialAbortCommand(runner: self)]
        where plane.command(named: command.name) == nil {
            do { try plane.register(command) } catch { logger.error("\(error)") }
        }
    }

    /// Sets where trials read their pipeline's windows and totals (fleet mode's leader: the fleet's merge).
    public func setStatisticsProvider(_ provider: @escaping @Sendable () -> (any PipelineStatisticsSource)?) {
        statisticsProvider.withLock { $0 = provider }
    }

    /// The statistics a trial on `pipeline` reads at `now`: the fleet's, or the pipeline's own.
    func statistics(of pipeline: Pipeline, now: Int64) -> PipelineStatistics {
        statisticsProvider.withLock { $0 }?()?.statistics(of: pipeline) ?? .local(pipeline, instant: now)
    }

    // MARK: - Reading

    /// Every trial known (running or ended), by name.
    public var trials: [String: ShadowTrial] { records.withLock { $0.mapValues(\.trial) } }

    /// The trial with this name.
    public func trial(named name: String) -> ShadowTrial? { records.withLock { $0[name]?.trial } }

    /// When the next trial falls due (nanoseconds on the plane's clock), if any runs.
    public var nextDue: Int64? {
        records.withLock { records in
            records.values.map(\.trial).filter { !$0.status.isFinal }
                .map { $0.lastEvaluation + $0.configuration.interval }.min()
        }
    }

    // MARK: - Commands

    func start(_ request: TrialRequest, by actor: Identity, reason: String? = nil) throws(CommandError) -> JSONValue {
        let configuration = request.configuration
        let pipelineName = String(configuration.params.keys.sorted()[0].prefix { $0 != "." })
        guard let pipeline = plane.registry.pipeline(named: pipelineName) else {
            throw CommandError(.unknownParameter, "trial \(configuration.name): no pipeline named \(pipelineName)")
        }
        var live: [String: Double] = [:]
        var warnings: [String] = []
        for (knob, candidate) in configuration.params.sorted(by: { $0.key < $1.key }) {
            do { live[knob] = try plane.registry.value(knob) } catch { throw CommandError.from(error) }
            if Self.isLooser(knob, candidate: candidate, live: live[knob]!) {
                warnings.append(
                    "\(knob): the candidate \(candidate) is looser than live \(live[knob]!): calls live refuses or cuts short have outcomes nobody can know (recorded as unknown, never counted as good), so only the calls both would admit are judged"
                )
            }
        }
        let now = plane.time.now()
        return try records.withLock { (records: inout [String: TrialRecord]) throws(CommandError) -> JSONValue in
            if let existing = records[configuration.name], !existing.trial.status.isFinal {
                throw CommandError(.invalidArgument, TrialError.duplicateName(configuration.name).message)
            }
            let started: (ShadowTrial, TrialStep)
            do throws(TrialError) {
                started = try ShadowTrial.start(
                    configuration, now: now, liveValues: live, totals: Self.totals(of: statistics(of: pipeline, now: now)))
            } catch {
                throw CommandError(.invalidArgument, error.message)
            }
            let (trial, step) = started
            // The shadows belong to the trial.start command, which is audited as itself.
            for action in step.actions {
                let outcome = plane.change(
                    TrialCoordinator.operations(for: action), rules: .shadows, by: actor, record: nil, reason: reason)
                if let error = outcome.error { throw error }
            }
            var record = TrialRecord(trial: trial, request: request, pipeline: pipelineName, warnings: warnings)
            record.lastEvent = step.events.last
            records[configuration.name] = record
            reportStatus(trial)
            return view(of: record, now: now)
        }
    }

    func abort(_ name: String, reason: String, by actor: Identity) throws(CommandError) -> JSONValue {
        let now = plane.time.now()
        return try records.withLock { (records: inout [String: TrialRecord]) throws(CommandError) -> JSONValue in
            guard var record = records[name] else {
                throw CommandError(.invalidArgument, TrialError.unknownTrial(name).message)
            }
            var trial = record.trial
            let step = trial.abort(now: now, reason: reason)
            // The abort command is audited as itself: its changes carry no entry of their own.
            for action in step.actions {
                let rules: ChangeRules = if case .rollback = action { .rollback } else { .shadows }
                let outcome = plane.change(
                    TrialCoordinator.operations(for: action), rules: rules, by: actor, record: nil, reason: reason)
                if let error = outcome.error { throw error }
            }
            record.trial = trial
            record.lastEvent = step.events.last ?? record.lastEvent
            records[name] = record
            reportStatus(trial)
            return view(of: record, now: now)
        }
    }

    // MARK: - Evaluating

    /// Evaluates every trial whose interval has passed, in name order, against
    /// its pipeline's live and shadow windows. Returns the alerts to send (the
    /// cost guard's, a regression held by a freeze).
    @discardableResult
    public func evaluateDue(now: Int64? = nil) -> [Alert] {
        let now = now ?? plane.time.now()
        let frozen = plane.frozen
        var alerts: [Alert] = []
        records.withLock { records in
            for name in records.keys.sorted() {
                guard var record = records[name], !record.trial.status.isFinal,
                    now - record.trial.lastEvaluation >= record.trial.configuration.interval
                else { continue }
                if let frozen {
                    // A freeze stops every automated change: the trial holds.
                    if let alert = hold(&record, frozen: frozen, now: now) { alerts.append(alert) }
                } else if let alert = evaluate(&record, now: now) {
                    alerts.append(alert)
                }
                records[name] = record
                reportStatus(record.trial)
            }
        }
        return alerts
    }

    /// Sets the status gauges of `trial`.
    func reportStatus(_ trial: ShadowTrial) {
        let gauges = statusGauges.withLock { table in
            if let gauges = table[trial.name] { return gauges }
            var gauges: [TrialStatus: Gauge] = [:]
            for status in TrialStatus.allCases {
                gauges[status] = Gauge(label: "sentinel_trial_status", dimensions: [("trial", trial.name), ("status", status.rawValue)])
            }
            table[trial.name] = gauges
            return gauges
        }
        for (status, gauge) in gauges { gauge.record(status == trial.status ? 1 : 0) }
    }

    /// One evaluation of one trial; its changes go through the plane.
    private func evaluate(_ record: inout TrialRecord, now: Int64) -> Alert? {
        guard let pipeline = plane.registry.pipeline(named: record.pipeline) else {
            // Its knobs went with the pipeline: nothing to change, only to end and say so.
            let reason = "pipeline \(record.pipeline) is gone"
            let step = record.trial.abort(now: now, reason: reason)
            record.lastEvent = step.events.last ?? record.lastEvent
            plane.record(
                AuditEntry(
                    time: plane.now, actor: "sentinel", action: "trial.abort", target: record.name,
                    args: ["name": .string(record.name)], outcome: .applied, reason: reason))
            return nil
        }
        let window = Self.window(for: record.trial.configuration.interval)
        let statistics = self.statistics(of: pipeline, now: now)
        let live = statistics.live.stats(window, now: statistics.instant)
        let shadow = statistics.shadow.stats(window, now: statistics.instant)
        if record.trial.status != .watching, let exceeded = costExceeded(record, now: now) {
            automaticAbort(&record, now: now, reason: "cost guard: \(exceeded); shadowing stopped")
            return Alert(
                time: plane.now, source: "sentinel", severity: .warning,
                message: "trial \(record.name) stopped by its cost guard: \(exceeded)",
                fields: ["trial": .string(record.name), "shadow_calls": .int(Int64(record.shadowCalls))])
        }
        if record.trial.status != .watching {
            // The window is at least the interval long: count only its share of the interval.
            let share = min(1, Double(record.trial.configuration.interval) / Double(window.nanoseconds))
            record.shadowCalls += Int((Double(shadow.calls) * share).rounded())
        }
        var trial = record.trial
        let step = trial.evaluate(
            now: now, live: live, shadow: shadow,
            liveLatencies: statistics.live.latencyHistogram(window, now: statistics.instant),
            shadowLatencies: statistics.shadow.latencyHistogram(window, now: statistics.instant),
            totals: trial.configuration.judge == .sequential ? Self.totals(of: statistics) : nil)
        apply(step, to: &record, evaluated: trial, now: now)
        return nil
    }

    /// Applies a step's changes through the plane, each audited with the
    /// event it belongs to. On a refusal the trial keeps its state from
    /// before the evaluation and is tried again at its next interval.
    func apply(_ step: TrialStep, to record: inout TrialRecord, evaluated trial: ShadowTrial, now: Int64) {
        for action in step.actions {
            let (rules, kind, auditAction): (ChangeRules, TrialEvent.Kind, String) =
                switch action {
                case .promote: (.promotion, .promoted, "trial.promote")
                case .rollback: (.rollback, .rolledBack, "trial.rollback")
                case .clearShadows, .applyShadows, .none: (.shadows, .aborted, "trial.abort")
                }
            let event = step.events.last { $0.kind == kind }
            var args: [String: JSONValue] = [
                "name": .string(trial.name), "params": .object(trial.configuration.params.mapValues { .double($0) }),
            ]
            if case .rollback = action { args["restored"] = .object(trial.previousValues.mapValues { .double($0) }) }
            let outcome = plane.change(
                TrialCoordinator.operations(for: action), rules: rules,
                record: ChangeRecord(
                    action: auditAction, target: trial.name, args: .object(args),
                    reason: event?.evidence["reason"]?.string ?? Self.reason(kind), evidence: event?.evidence.jsonValue))
            if let error = outcome.error {
                refusals[auditAction]?.increment()
                logger.warning(
                    "trial \(trial.name): \(auditAction) not applied (\(error.message)); the trial keeps its state and is evaluated again at its next interval"
                )
                record.trial.deferEvaluation(now: now)
                return
            }
        }
        record.trial = trial
        if let last = step.events.last { record.lastEvent = last }
    }

    /// Ends a trial on the sentinel's own account (its pipeline is gone, the cost guard).
    private func automaticAbort(_ record: inout TrialRecord, now: Int64, reason: String) {
        var trial = record.trial
        let step = trial.abort(now: now, reason: reason)
        apply(step, to: &record, evaluated: trial, now: now)
    }

    private func costExceeded(_ record: TrialRecord, now: Int64) -> String? {
        if now - record.trial.startedAt > record.request.maxDuration {
            return "not promoted within max_duration (\(Double(record.request.maxDuration) / 1e9) s)"
        }
        if let limit = record.request.maxShadowCalls, record.shadowCalls > limit {
            return "\(record.shadowCalls) calls judged under the shadows, over max_shadow_calls (\(limit))"
        }
        return nil
    }

    /// The running totals of both sides, what a sequential trial counts from
    /// (a fleet's merge is a source of its own: a new leader's test starts again).
    static func totals(of statistics: PipelineStatistics) -> TrialTotals {
        let source: UInt64 = if case .merge(let generation) = statistics.origin { generation } else { 0 }
        return TrialTotals(live: statistics.live.totals(), shadow: statistics.shadow.totals(), source: source)
    }

    /// The observer window an evaluation reads: the shortest at least as long as the interval.
    static func window(for interval: Int64) -> StatisticsWindow {
        StatisticsWindow.allCases.first { $0.nanoseconds >= interval } ?? .fifteenMinutes
    }

    /// Whether `candidate` admits or waits for more than `live` does.
    static func isLooser(_ knob: String, candidate: Double, live: Double) -> Bool {
        let larger = [
            ".timeout.duration", ".retry.max_attempts", ".bulkhead.max_concurrent", ".bulkhead.max_queued",
            ".bulkhead.queue_timeout", ".ratelimit.rate", ".ratelimit.burst", ".breaker.failure_rate",
            ".breaker.slow_call_rate", ".breaker.slow_call_duration", ".breaker.minimum_calls",
        ]
        return larger.contains { knob.hasSuffix($0) } && candidate > live
    }

    /// The audit reason of an automatic change when the event gives none.
    static func reason(_ kind: TrialEvent.Kind) -> String {
        switch kind {
        case .promoted: "the shadows held the criteria through the whole window"
        case .rolledBack: "live regressed against the pre-promotion baseline"
        case .aborted: "the trial ended without promotion"
        case .held: "automation is frozen"
        default: kind.rawValue
        }
    }
}

/// The name this type had before the runtime was built once.
@available(*, deprecated, renamed: "TrialRunner")
public typealias TrialManager = TrialRunner
