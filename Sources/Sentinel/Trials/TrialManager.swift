import Resilience
import ShadowEval
import Synchronization

/// Shadow trials wired to the control plane: `trial.start` and `trial.abort`,
/// evaluation on the trials' intervals against the pipeline's live and
/// shadow windows, the cost guard, `state.trials`, and the state file.
///
/// ```swift
/// let trials = TrialManager(plane: plane)
/// trials.registerCommands()
/// await engine.setTrialsProvider { trials.stateView() }
/// // on a timer: let alerts = trials.evaluateDue()
/// ```
public final class TrialManager: Sendable {
    let plane: ControlPlane
    let recorder: TrialRecorder
    /// The state machines; the manager drives them.
    public let coordinator: TrialCoordinator

    struct Extras: Sendable {
        var request: TrialRequest
        var pipeline: String
        /// What cannot be judged in the direction the trial goes (said at the start).
        var warnings: [String]
        /// Calls judged under the shadows so far (the cost guard's count).
        var shadowCalls: Int
        /// Whether this freeze's held rollback is in the audit already.
        var heldRollbackAudited = false
    }

    private let extras = Mutex<[String: Extras]>([:])

    public init(plane: ControlPlane) {
        self.plane = plane
        recorder = TrialRecorder(plane: plane)
        coordinator = TrialCoordinator(store: plane.registry, sink: recorder)
    }

    /// Registers `trial.start` and `trial.abort` with the control plane (once).
    public func registerCommands() {
        try? plane.register(TrialStartCommand(manager: self))
        try? plane.register(TrialAbortCommand(manager: self))
    }

    // MARK: - Commands

    func start(_ request: TrialRequest) throws(CommandError) -> CommandValue {
        let configuration = request.configuration
        let pipelineName = String(configuration.params.keys.sorted()[0].prefix { $0 != "." })
        guard plane.registry.pipeline(named: pipelineName) != nil else {
            throw CommandError(.unknownParameter, "trial \(configuration.name): no pipeline named \(pipelineName)")
        }
        var warnings: [String] = []
        for (knob, candidate) in configuration.params.sorted(by: { $0.key < $1.key }) {
            let live: Double
            do { live = try plane.registry.value(knob) } catch { throw CommandError.from(error) }
            if Self.isLooser(knob, candidate: candidate, live: live) {
                warnings.append("\(knob): the candidate \(candidate) is looser than live \(live): calls live refuses or cuts short have outcomes nobody can know (recorded as unknown, never counted as good), so only the calls both would admit are judged")
            }
        }
        let trial: ShadowTrial
        do {
            trial = try coordinator.start(configuration, now: plane.time.now())
        } catch {
            switch error {
            case .knob(let knobError): throw CommandError.from(knobError)
            default: throw CommandError(.invalidArgument, error.message)
            }
        }
        extras.withLock {
            $0[configuration.name] = Extras(request: request, pipeline: pipelineName, warnings: warnings, shadowCalls: 0)
        }
        return view(of: trial, now: plane.time.now())
    }

    func abort(_ name: String, reason: String) throws(CommandError) -> CommandValue {
        let now = plane.time.now()
        do {
            let trial = try recorder.commandingAbort(name) { () throws(TrialError) in
                try coordinator.abort(name, now: now, reason: reason)
            }
            return view(of: trial, now: now)
        } catch {
            switch error {
            case .unknownTrial: throw CommandError(.invalidArgument, error.message)
            case .knob(let knobError): throw CommandError.from(knobError)
            default: throw CommandError(.failed, error.message)
            }
        }
    }

    // MARK: - Evaluating

    /// When the next trial falls due (nanoseconds on the plane's clock), if any runs.
    public var nextDue: Int64? {
        coordinator.trials.values.filter { !$0.status.isFinal }
            .map { $0.lastEvaluation + $0.configuration.interval }.min()
    }

    /// Evaluates every trial whose interval has passed, in name order, against
    /// its pipeline's live and shadow windows. Returns the cost guard's alerts.
    @discardableResult
    public func evaluateDue(now: Int64? = nil) -> [Alert] {
        let now = now ?? plane.time.now()
        let frozen = plane.frozen
        var alerts: [Alert] = []
        for trial in coordinator.trials.values.sorted(by: { $0.name < $1.name }) {
            guard !trial.status.isFinal, now - trial.lastEvaluation >= trial.configuration.interval,
                  let extra = extras.withLock({ $0[trial.name] }) else { continue }
            if let frozen {
                // A freeze stops every automated change: the trial holds.
                if let alert = hold(trial, extra, frozen: frozen, now: now) { alerts.append(alert) }
                continue
            }
            guard let pipeline = plane.registry.pipeline(named: extra.pipeline) else {
                _ = try? coordinator.abort(trial.name, now: now, reason: "pipeline \(extra.pipeline) is gone")
                continue
            }
            let window = Self.window(for: trial.configuration.interval)
            let live = pipeline.windows.stats(window, now: now)
            let shadow = pipeline.shadowWindows.stats(window, now: now)
            if trial.status != .watching, let exceeded = costExceeded(trial, extra, now: now) {
                _ = try? coordinator.abort(trial.name, now: now, reason: "cost guard: \(exceeded); shadowing stopped")
                alerts.append(Alert(time: plane.now, source: "sentinel", severity: .warning,
                    message: "trial \(trial.name) stopped by its cost guard: \(exceeded)",
                    fields: ["trial": .string(trial.name), "shadow_calls": .int(Int64(extra.shadowCalls))]))
                continue
            }
            if trial.status != .watching {
                // The window is at least the interval long: count only its share of the interval.
                let share = min(1, Double(trial.configuration.interval) / Double(window.nanoseconds))
                extras.withLock { $0[trial.name]?.shadowCalls += Int((Double(shadow.calls) * share).rounded()) }
            }
            _ = try? coordinator.evaluate(
                trial.name, now: now, live: live, shadow: shadow,
                liveLatencies: pipeline.windows.latencyHistogram(window, now: now),
                shadowLatencies: pipeline.shadowWindows.latencyHistogram(window, now: now))
        }
        return alerts
    }

    /// Holds `trial` for a freeze. While watching, the watch is still judged
    /// (without deciding): a regression is alerted every interval, and the
    /// rollback it would have made is audited as `denied` once per freeze.
    private func hold(_ trial: ShadowTrial, _ extra: Extras, frozen: ControlPlane.Frozen, now: Int64) -> Alert? {
        let why = "automation is frozen by \(frozen.by)" + (frozen.reason.map { ": \($0)" } ?? "")
        let firstHold = trial.heldSince == nil
        _ = try? coordinator.hold(trial.name, now: now, reason: why + "; the window restarts after the unfreeze")
        guard trial.status == .watching, let pipeline = plane.registry.pipeline(named: extra.pipeline) else { return nil }
        let window = Self.window(for: trial.configuration.interval)
        let verdict = trial.watchVerdict(
            live: pipeline.windows.stats(window, now: now), liveLatencies: pipeline.windows.latencyHistogram(window, now: now))
        guard case .violation(let metrics, let evidence)? = verdict else { return nil }
        let alreadyAudited = extras.withLock { extras -> Bool in
            defer { extras[trial.name]?.heldRollbackAudited = true }
            return !firstHold && extras[trial.name]?.heldRollbackAudited == true
        }
        if !alreadyAudited {
            plane.record(AuditEntry(
                time: plane.now, actor: "sentinel", action: "trial.rollback", target: trial.name,
                args: .object([
                    "name": .string(trial.name), "params": .object(trial.configuration.params.mapValues { .double($0) }),
                    "restored": .object(trial.previousValues.mapValues { .double($0) }),
                ]),
                outcome: .denied, reason: "\(why); live regressed (\(metrics.joined(separator: ", "))) but the rollback is held",
                evidence: evidence.commandValue))
        }
        return Alert(
            time: plane.now, source: "sentinel", severity: .critical,
            message: "trial \(trial.name): live regressed against the pre-promotion baseline (\(metrics.joined(separator: ", "))); the rollback is held while \(why)",
            fields: ["trial": .string(trial.name), "metrics": .array(metrics.map { .string($0) })])
    }

    private func costExceeded(_ trial: ShadowTrial, _ extra: Extras, now: Int64) -> String? {
        if now - trial.startedAt > extra.request.maxDuration {
            return "not promoted within max_duration (\(Double(extra.request.maxDuration) / 1e9) s)"
        }
        if let limit = extra.request.maxShadowCalls, extra.shadowCalls > limit {
            return "\(extra.shadowCalls) calls judged under the shadows, over max_shadow_calls (\(limit))"
        }
        return nil
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

    func extras(for name: String) -> Extras? { extras.withLock { $0[name] } }
    func setExtras(_ extra: Extras, for name: String) { extras.withLock { $0[name] = extra } }

    // MARK: - State

    /// `state.trials`: every trial by name.
    public func stateView(now: Int64? = nil) -> [String: CommandValue] {
        let now = now ?? plane.time.now()
        var result: [String: CommandValue] = [:]
        for trial in coordinator.trials.values { result[trial.name] = view(of: trial, now: now) }
        return result
    }

    func view(of trial: ShadowTrial, now: Int64) -> CommandValue {
        let extra = extras.withLock { $0[trial.name] }
        var fields: [String: CommandValue] = [
            "name": .string(trial.name), "status": .string(trial.status.rawValue),
            "elapsed": .double(Double(trial.elapsed(now: now)) / 1e9),
            "stable_for": .double(Double(trial.stableFor) / 1e9),
            "violations": .int(Int64(trial.violations)),
            "params": .object(trial.configuration.params.mapValues { .double($0) }),
            "previous": .object(trial.previousValues.mapValues { .double($0) }),
            "window": .double(Double(trial.configuration.window) / 1e9),
            "watch": .double(Double(trial.configuration.watch) / 1e9),
            "evidence": trial.lastEvidence.commandValue,
            "warnings": .array((extra?.warnings ?? []).map { .string($0) }),
            "shadow_calls": .int(Int64(extra?.shadowCalls ?? 0)),
            "held": .bool(trial.heldSince != nil),
        ]
        if let event = recorder.lastEvent(trial.name) { fields["last_event"] = .string(event.kind.rawValue) }
        return .object(fields)
    }
}
