import Resilience

/// The sequential judge of a trial (``TrialJudgeMode/sequential``), before promotion.
///
/// - The test compares the shadow with live on everything each side recorded
///   since it began (exact running totals, like a script's mark), at every
///   evaluation, with a ``SequentialJudge`` whose false-alarm rate holds over
///   every look. Its α: `1 - confidence` for the whole trial, split over the
///   metrics judged (``TrialConfiguration/sequentialAlpha``).
/// - **pass** promotes once the test has run for ``TrialConfiguration/window``
///   (the minimum observation time); before that the trial keeps looking.
/// - **violation** aborts at once (``TrialConfiguration/maxViolations`` does
///   not apply): the verdict holds at `1 - α` over every look, and a second
///   chance would be a new test spending α again.
/// - **continue**: keep looking; too few calls is no more than that.
/// - A stall loses nothing (the totals saw every call). A freeze, a
///   restart (the counters start again with the process), the pipeline
///   registered again (its counters start over), or totals from other
///   counters (``TrialTotals/source``: a fleet's new leader) ends the test;
///   the next evaluation begins a new one, and observation counts from there.
extension ShadowTrial {
    /// Begins a new sequential test at `now` from the running totals `totals`.
    mutating func beginSequentialTest(now: Int64, totals: TrialTotals) {
        sequentialTest = TrialSequentialTest(
            since: now, base: totals,
            judge: SequentialJudge(
                criteria: configuration.criteria, minimumCalls: configuration.minSamples, alpha: configuration.sequentialAlpha))
        coveredSince = now
    }

    mutating func judgeSequentially(
        now: Int64, live: WindowStats, liveLatencies: [Double]?, totals: TrialTotals?, into step: inout TrialStep
    ) {
        guard let totals else {
            // A caller without running totals cannot be judged sequentially: nothing counts.
            status = .holding
            let reason = "the sequential judge needs the pipeline's running totals"
            restart(now: now, reason: "inconclusive: \(reason)", into: &step)
            sequentialTest = nil
            step.events.append(event(.inconclusive, now: now, evidence: ["reason": .string(reason)]))
            return
        }
        guard var test = sequentialTest else {
            // Restored after a restart (its counts went with the old process) or unfrozen: a new test from here.
            restart(now: now, reason: "the sequential test starts again: its counts do not survive a restart", into: &step)
            status = .running
            beginSequentialTest(now: now, totals: totals)
            return
        }
        if totals.source != test.base.source {
            // Other counters (in a fleet, a new leader's merge): what the test counted from is not in them.
            restart(now: now, reason: "the sequential test starts again: its counts come from other statistics now", into: &step)
            beginSequentialTest(now: now, totals: totals)
            return
        }
        if totals.live.stats.calls < test.base.live.stats.calls || totals.shadow.stats.calls < test.base.shadow.stats.calls {
            // Fewer calls than when the test began: the pipeline was registered again and its counters started over.
            restart(now: now, reason: "the sequential test starts again: the pipeline's counters started over", into: &step)
            beginSequentialTest(now: now, totals: totals)
            return
        }
        var (verdict, evidence) = test.look(totals)
        sequentialTest = test
        status = .running
        let observed = now - test.since
        evidence["judge"] = .string(TrialJudgeMode.sequential.rawValue)
        evidence["observed_seconds"] = .number(Double(observed) / 1e9)
        evidence["min_observation_seconds"] = .number(Double(configuration.window) / 1e9)
        evidence["stable_seconds"] = .number(Double(observed) / 1e9)
        switch verdict {
        case .violation:
            violations += 1
            let metrics = evidence["violated"]?.string ?? ""
            abortForViolation(
                now: now, evidence: evidence,
                reason:
                    "sequential violation (\(metrics)): the shadow is worse than live at \(1 - (evidence["alpha"]?.number ?? 0)) over every look since the test began",
                into: &step)
        case .pass where observed >= configuration.window:
            evidence["reason"] = .string(
                "the sequential test passed and the shadows were observed for \(Double(observed) / 1e9) s (minimum \(Double(configuration.window) / 1e9) s)"
            )
            promote(now: now, live: live, liveLatencies: liveLatencies, evidence: evidence, into: &step)
        case .pass, .continue:
            lastEvidence = evidence
        }
    }
}
