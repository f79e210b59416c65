import Resilience

/// A shadow trial as a synchronous state machine: no tasks, no clock reads.
///
/// Every method takes the caller's `now` (nanoseconds) and, for evaluations,
/// the live and shadow ``WindowStats`` of a window about as long as the
/// evaluation interval (for example ``StatisticsWindow/tenSeconds`` for the
/// default 10 s interval), so each evaluation judges fresh samples. It returns
/// a ``TrialStep``: the knob changes to apply atomically and the events to report.
///
/// Lifecycle:
/// - ``start(_:now:liveValues:)``: applies the shadows; status `running`.
/// - ``evaluate(now:live:shadow:)`` while `running` or `holding`: a passing
///   evaluation covers the time since the previous evaluation; once passing
///   evaluations cover ``TrialConfiguration/window`` continuously, the trial
///   promotes every knob in one action and starts watching. A violation
///   restarts the window, and the K-th aborts (shadows cleared). Too few samples
///   is inconclusive: status `holding`, and the window restarts (silence is not
///   health). A gap of more than twice the interval since the previous
///   evaluation is a stall: the window restarts and the evaluation after the
///   gap covers nothing before itself.
/// - While `watching`: live is judged against the live window recorded at
///   promotion, by the same criteria. A violation rolls back to the values
///   before the trial; the watch ends (status `promoted`) once passing
///   evaluations cover the watch period continuously, with the same rules for
///   inconclusive evaluations and stalls.
/// - ``abort(now:reason:)``: clears the shadows, or rolls back while watching.
///
/// With ``TrialJudgeMode/sequential`` (see `ShadowTrial+Sequential.swift`),
/// evaluations before promotion look at everything since the trial's
/// sequential test began instead of the last window: promotion needs the
/// test's pass and at least ``TrialConfiguration/window`` since it began, its
/// first violation aborts, and the watch is as above.
public struct ShadowTrial: Sendable, Hashable {
    /// What is tried and how it is judged.
    public let configuration: TrialConfiguration
    /// The current status.
    public internal(set) var status: TrialStatus
    /// When the trial started.
    public let startedAt: Int64
    /// When the trial was last evaluated (or started).
    public private(set) var lastEvaluation: Int64
    /// Start of the time covered continuously by passing evaluations (the
    /// stable window, or the watch), or `nil` when nothing is covered.
    public internal(set) var coveredSince: Int64?
    /// Violations so far (before promotion).
    public internal(set) var violations: Int
    /// The live values of the trial's knobs before the trial, restored by a rollback.
    public let previousValues: [String: Double]
    /// The live window at promotion: the baseline the watch compares against.
    public private(set) var baseline: WindowStats?
    /// The live latency histogram at promotion, when evaluations carried histograms.
    public private(set) var baselineLatencies: [Double]?
    /// When the trial promoted.
    public private(set) var promotedAt: Int64?
    /// When the trial ended.
    public private(set) var endedAt: Int64?
    /// The evidence of the most recent event.
    public internal(set) var lastEvidence: Evidence
    /// When the trial began holding for a freeze, while it holds; the
    /// evaluation after the unfreeze covers nothing before itself.
    public private(set) var heldSince: Int64?
    /// The sequential judge's test (``TrialJudgeMode/sequential`` only, before
    /// promotion), or nil until the next evaluation begins one. In memory only.
    public internal(set) var sequentialTest: TrialSequentialTest?

    /// The trial's name.
    public var name: String { configuration.name }
    /// The trial's knobs, sorted.
    public var knobs: [String] { configuration.params.keys.sorted() }

    private var fixedJudge: TrialJudge {
        TrialJudge(criteria: configuration.criteria, minSamples: configuration.minSamples)
    }

    /// Rebuilds a trial as it was saved (see the Sentinel's state file): every
    /// field as its accessor gave it. Nothing is applied to the knobs; their
    /// live and shadow values are restored with the rest of the state.
    public init(
        restoring configuration: TrialConfiguration, status: TrialStatus, startedAt: Int64, lastEvaluation: Int64,
        coveredSince: Int64?, violations: Int, previousValues: [String: Double], baseline: WindowStats?,
        promotedAt: Int64?, endedAt: Int64?, lastEvidence: Evidence, baselineLatencies: [Double]? = nil,
        heldSince: Int64? = nil
    ) {
        self.baselineLatencies = baselineLatencies
        self.heldSince = heldSince
        self.configuration = configuration
        self.status = status
        self.startedAt = startedAt
        self.lastEvaluation = lastEvaluation
        self.coveredSince = coveredSince
        self.violations = violations
        self.previousValues = previousValues
        self.baseline = baseline
        self.promotedAt = promotedAt
        self.endedAt = endedAt
        self.lastEvidence = lastEvidence
    }

    private init(configuration: TrialConfiguration, now: Int64, previousValues: [String: Double]) {
        self.configuration = configuration
        self.status = .running
        self.startedAt = now
        self.lastEvaluation = now
        self.coveredSince = nil
        self.violations = 0
        self.previousValues = previousValues
        self.lastEvidence = [:]
    }

    /// Starts a trial: validates the configuration and returns the trial with
    /// the step that applies its shadows. `liveValues` are the knobs' live values
    /// now (restored by a rollback); every knob of the trial must have one.
    /// `totals` are the pipeline's running totals now: a sequential trial's
    /// test begins with them (without them, at its first evaluation).
    public static func start(
        _ configuration: TrialConfiguration, now: Int64, liveValues: [String: Double], totals: TrialTotals? = nil
    ) throws(TrialError) -> (ShadowTrial, TrialStep) {
        try configuration.validate()
        var previous: [String: Double] = [:]
        for knob in configuration.params.keys {
            guard let value = liveValues[knob] else {
                throw .invalidConfiguration("trial \"\(configuration.name)\": no live value for \(knob)")
            }
            previous[knob] = value
        }
        var trial = ShadowTrial(configuration: configuration, now: now, previousValues: previous)
        var evidence: Evidence = [
            "window_seconds": .number(Double(configuration.window) / 1e9),
            "min_samples": .number(Double(configuration.minSamples)),
            "max_violations": .number(Double(configuration.maxViolations)),
            "watch_seconds": .number(Double(configuration.watch) / 1e9),
        ]
        for (knob, value) in configuration.params {
            evidence["shadow.\(knob)"] = .number(value)
            evidence["live.\(knob)"] = .number(previous[knob]!)
        }
        if configuration.judge == .sequential {
            evidence["judge"] = .string(configuration.judge.rawValue)
            evidence["alpha"] = .number(configuration.sequentialAlpha)
            if let totals { trial.beginSequentialTest(now: now, totals: totals) }
        }
        let event = trial.event(.started, now: now, evidence: evidence)
        return (trial, TrialStep(actions: [.applyShadows(configuration.params)], events: [event]))
    }

    /// Time since the trial started.
    public func elapsed(now: Int64) -> Int64 { (endedAt ?? now) - startedAt }

    /// Time covered continuously by passing evaluations so far (the stable
    /// window before promotion, the watch after).
    public var stableFor: Int64 {
        guard let coveredSince else { return 0 }
        return lastEvaluation - coveredSince
    }

    /// Judges one evaluation: `live` and `shadow` are the windows of the same
    /// length as of `now`, with their latency histograms when the caller has
    /// them (see ``TrialCriteria``). While watching, `shadow` is ignored.
    /// `totals` are the pipeline's running totals now, which the sequential
    /// judge needs (the fixed one ignores them).
    public mutating func evaluate(
        now: Int64, live: WindowStats, shadow: WindowStats,
        liveLatencies: [Double]? = nil, shadowLatencies: [Double]? = nil, totals: TrialTotals? = nil
    ) -> TrialStep {
        guard !status.isFinal else { return TrialStep() }
        var step = TrialStep()
        let previous = lastEvaluation
        let stalled = now - previous > 2 * configuration.interval
        let wasHeld = heldSince != nil
        lastEvaluation = now
        heldSince = nil
        // The sequential test counts every call since it began, gap or not: a stall loses nothing.
        let observedThroughGap = configuration.judge == .sequential && status != .watching && sequentialTest != nil
        if stalled && !observedThroughGap {
            restart(
                now: now, reason: "stall: \(Double(now - previous) / 1e9) s since the previous evaluation",
                into: &step)
        }
        // Where a passing evaluation's coverage begins: the previous evaluation,
        // or nothing before itself after a stall or a freeze.
        let coverageStart = stalled || wasHeld ? now : previous
        if status == .watching {
            watch(now: now, live: live, liveLatencies: liveLatencies, coverageStart: coverageStart, into: &step)
        } else if configuration.judge == .sequential {
            judgeSequentially(now: now, live: live, liveLatencies: liveLatencies, totals: totals, into: &step)
        } else {
            trial(
                now: now, live: live, shadow: shadow, liveLatencies: liveLatencies, shadowLatencies: shadowLatencies,
                coverageStart: coverageStart, into: &step)
        }
        return step
    }

    private mutating func trial(
        now: Int64, live: WindowStats, shadow: WindowStats, liveLatencies: [Double]?, shadowLatencies: [Double]?,
        coverageStart: Int64, into step: inout TrialStep
    ) {
        switch fixedJudge.judge(candidate: shadow, reference: live, candidateLatencies: shadowLatencies, referenceLatencies: liveLatencies)
        {
        case .inconclusive(let reason, let evidence):
            status = .holding
            restart(now: now, reason: "inconclusive: \(reason)", into: &step)
            step.events.append(event(.inconclusive, now: now, evidence: evidence))
        case .violation(_, let evidence):
            violations += 1
            if violations >= configuration.maxViolations {
                abortForViolation(
                    now: now, evidence: evidence, reason: "\(violations) violations (max \(configuration.maxViolations))",
                    into: &step)
            } else {
                status = .running
                restart(now: now, reason: "violation", into: &step)
                step.events.append(event(.violation, now: now, evidence: evidence))
            }
        case .pass(let evidence):
            status = .running
            if coveredSince == nil { coveredSince = coverageStart }
            guard now - coveredSince! >= configuration.window else {
                lastEvidence = evidence
                return
            }
            promote(now: now, live: live, liveLatencies: liveLatencies, evidence: evidence, into: &step)
        }
    }

    /// Ends the trial unpromoted after a violation: the shadows are cleared.
    mutating func abortForViolation(now: Int64, evidence: Evidence, reason: String, into step: inout TrialStep) {
        status = .aborted
        endedAt = now
        coveredSince = nil
        sequentialTest = nil
        step.events.append(event(.violation, now: now, evidence: evidence))
        var abortEvidence = evidence
        abortEvidence["reason"] = .string(reason)
        step.actions.append(.clearShadows(knobs))
        step.events.append(event(.aborted, now: now, evidence: abortEvidence))
    }

    /// Makes the shadows live; live now is the baseline the watch compares against.
    mutating func promote(
        now: Int64, live: WindowStats, liveLatencies: [Double]?, evidence: Evidence, into step: inout TrialStep
    ) {
        baseline = live
        baselineLatencies = liveLatencies
        promotedAt = now
        sequentialTest = nil
        step.actions.append(.promote(knobs))
        var promoteEvidence = evidence
        promoteEvidence["stable_seconds"] = .number(Double(now - (coveredSince ?? now)) / 1e9)
        if configuration.watch > 0 {
            // The watch is covered from here by its own passing evaluations.
            status = .watching
            coveredSince = nil
        } else {
            status = .promoted
            endedAt = now
        }
        step.events.append(event(.promoted, now: now, evidence: promoteEvidence))
    }

    private mutating func watch(
        now: Int64, live: WindowStats, liveLatencies: [Double]?, coverageStart: Int64, into step: inout TrialStep
    ) {
        guard let baseline else { return }
        switch fixedJudge.judge(
            candidate: live, reference: baseline, candidateLatencies: liveLatencies, referenceLatencies: baselineLatencies)
        {
        case .inconclusive(let reason, let evidence):
            restart(now: now, reason: "inconclusive: \(reason)", into: &step)
            step.events.append(event(.inconclusive, now: now, evidence: evidence))
        case .violation(_, var evidence):
            status = .rolledBack
            endedAt = now
            coveredSince = nil
            evidence["reason"] = .string("live regressed against the pre-promotion baseline")
            step.actions.append(.rollback(previousValues))
            step.events.append(event(.rolledBack, now: now, evidence: evidence))
        case .pass(let evidence):
            if coveredSince == nil { coveredSince = coverageStart }
            guard now - coveredSince! >= configuration.watch else {
                lastEvidence = evidence
                return
            }
            status = .promoted
            endedAt = now
            step.events.append(event(.watchCompleted, now: now, evidence: evidence))
        }
    }

    /// Counts an evaluation whose changes were refused (a guard held the
    /// promotion back): the trial keeps its state, and its next evaluation is
    /// one interval from `now`.
    public mutating func deferEvaluation(now: Int64) {
        lastEvaluation = now
    }

    /// Holds the trial while automation is frozen: nothing is judged and
    /// nothing applied, the covered time is dropped (the window restarts), and
    /// the first hold of a freeze reports ``TrialEvent/Kind/held`` with
    /// `reason`. The evaluation after the unfreeze covers nothing before
    /// itself. A running trial shows `holding`; a watching one keeps watching.
    public mutating func hold(now: Int64, reason: String) -> TrialStep {
        guard !status.isFinal else { return TrialStep() }
        var step = TrialStep()
        lastEvaluation = now
        restart(now: now, reason: "automation frozen", into: &step)
        // What was recorded while frozen does not count: a new test begins after the unfreeze.
        sequentialTest = nil
        guard heldSince == nil else { return step }
        heldSince = now
        if status == .running { status = .holding }
        step.events.append(event(.held, now: now, evidence: ["reason": .string(reason)]))
        return step
    }

    /// What the watch would decide on `live` now, without deciding it: for
    /// reporting a regression while the trial holds. Nil unless watching.
    public func watchVerdict(live: WindowStats, liveLatencies: [Double]? = nil) -> TrialVerdict? {
        guard status == .watching, let baseline else { return nil }
        return fixedJudge.judge(
            candidate: live, reference: baseline, candidateLatencies: liveLatencies, referenceLatencies: baselineLatencies)
    }

    /// Ends the trial by command: clears the shadows, or rolls back while
    /// watching. A trial that has ended is left as it is (empty step).
    public mutating func abort(now: Int64, reason: String) -> TrialStep {
        guard !status.isFinal else { return TrialStep() }
        endedAt = now
        coveredSince = nil
        sequentialTest = nil
        let evidence: Evidence = ["reason": .string(reason)]
        if status == .watching {
            status = .rolledBack
            return TrialStep(
                actions: [.rollback(previousValues)],
                events: [event(.rolledBack, now: now, evidence: evidence)])
        }
        status = .aborted
        return TrialStep(actions: [.clearShadows(knobs)], events: [event(.aborted, now: now, evidence: evidence)])
    }

    /// Drops the covered time, reporting it if there was any.
    mutating func restart(now: Int64, reason: String, into step: inout TrialStep) {
        guard let since = coveredSince else { return }
        coveredSince = nil
        step.events.append(
            event(
                .windowRestarted, now: now,
                evidence: [
                    "reason": .string(reason),
                    "covered_seconds": .number(Double(now - since) / 1e9),
                ]))
    }

    /// Makes an event with the trial's counters added to `evidence`, and
    /// remembers it as the last evidence.
    mutating func event(_ kind: TrialEvent.Kind, now: Int64, evidence: Evidence) -> TrialEvent {
        var evidence = evidence
        evidence["elapsed_seconds"] = .number(Double(elapsed(now: now)) / 1e9)
        evidence["stable_seconds"] = evidence["stable_seconds"] ?? .number(Double(stableFor) / 1e9)
        evidence["violations"] = .number(Double(violations))
        lastEvidence = evidence
        return TrialEvent(trial: name, kind: kind, time: now, status: status, evidence: evidence)
    }
}
