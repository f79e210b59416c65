import Resilience
import ShadowEval
import Testing

/// Shadow trials with `judge = sequential`: everything since the trial's test
/// began, judged at every evaluation by the sequential judge; the window is the
/// minimum observation time and the first violation aborts.
@Suite struct SequentialShadowTrialTests {
    /// Seeded traffic into a live and a shadow side, read as running totals.
    struct Traffic {
        let live = OutcomeWindows()
        let shadow = OutcomeWindows()
        var random: Xoshiro256StarStar

        init(seed: UInt64) { random = Xoshiro256StarStar(seed: seed) }

        var totals: TrialTotals { TrialTotals(live: live.totals(), shadow: shadow.totals()) }

        /// `calls` on each side at `now`: failures drawn at each side's rate, 40 ms each.
        mutating func record(calls: Int, liveErrors: Double = 0.005, shadowErrors: Double = 0.005, shadowUnknown: Int = 0, now: Int64) {
            for _ in 0..<calls {
                live.record(random.nextUnit() < liveErrors ? .failure : .success, latency: 40_000_000, now: now)
                shadow.record(random.nextUnit() < shadowErrors ? .failure : .success, latency: 40_000_000, now: now)
            }
            for _ in 0..<shadowUnknown { shadow.record(.unknown, latency: 40_000_000, now: now) }
        }
    }

    /// Errors only (a latency tail needs a spread of latencies to pass), a 60 s window.
    static func sequential(window: Int64 = seconds(60), watch: Int64 = 0) -> TrialConfiguration {
        TrialConfiguration(
            name: "tighter", params: ["checkout.timeout.duration": 0.3], window: window, interval: seconds(10),
            minSamples: 500, watch: watch,
            criteria: TrialCriteria(rejectionRate: nil, timeoutRate: nil, p99: nil, latencyShift: nil), judge: .sequential)
    }

    static func start(_ configuration: TrialConfiguration = sequential(), traffic: Traffic) throws -> ShadowTrial {
        try ShadowTrial.start(configuration, now: 0, liveValues: ["checkout.timeout.duration": 0.5], totals: traffic.totals).0
    }

    /// Evaluates at each of `times` (seconds) after `calls` more calls a side; returns the steps.
    static func run(
        _ trial: inout ShadowTrial, _ traffic: inout Traffic, at times: [Int64], calls: Int = 1_000, shadowErrors: Double = 0.005
    ) -> [(Int64, TrialStep)] {
        times.map { t in
            traffic.record(calls: calls, shadowErrors: shadowErrors, now: seconds(t))
            let live = traffic.live.stats(.tenSeconds, now: seconds(t))
            let shadow = traffic.shadow.stats(.tenSeconds, now: seconds(t))
            return (t, trial.evaluate(now: seconds(t), live: live, shadow: shadow, totals: traffic.totals))
        }
    }

    @Test func aHealthyShadowPassesEarlyButPromotesOnlyAfterTheWindow() throws {
        var traffic = Traffic(seed: 16_001)
        var trial = try Self.start(traffic: traffic)
        #expect(trial.sequentialTest?.since == 0)
        let before = Self.run(&trial, &traffic, at: [10, 20, 30, 40, 50])
        #expect(before.allSatisfy { $0.1.actions.isEmpty }, "nothing promotes before the window")
        #expect(trial.status == .running && trial.stableFor == seconds(50))
        #expect(trial.lastEvidence["error_rate.verdict"] == .string("pass"), "the test passed before the window: \(trial.lastEvidence)")
        let step = Self.run(&trial, &traffic, at: [60])[0].1
        #expect(step.actions == [.promote(["checkout.timeout.duration"])])
        #expect(trial.status == .promoted)
        let evidence = step.events[0].evidence
        #expect(evidence["judge"] == .string("sequential"))
        #expect(evidence["observed_seconds"] == .number(60) && evidence["min_observation_seconds"] == .number(60))
        #expect(evidence["error_rate.looks"] == .number(6))
        #expect(evidence["error_rate.difference_upper"]?.number.map { $0 < 0.01 } == true)
        #expect(evidence["alpha"]?.number.map { abs($0 - 0.05) < 1e-12 } == true, "one metric judged: the whole budget")
        #expect(evidence["reason"]?.string?.contains("the sequential test passed") == true)
    }

    @Test func aWorseShadowIsAbortedAtItsFirstViolationBeforeTheWindow() throws {
        var traffic = Traffic(seed: 16_002)
        var trial = try Self.start(traffic: traffic)
        let steps = Self.run(&trial, &traffic, at: [10, 20, 30, 40, 50], shadowErrors: 0.05)
        let aborting = try #require(steps.first { $0.1.kinds.contains(.aborted) })
        #expect(aborting.0 < 60, "aborted before the window, at \(aborting.0) s")
        #expect(aborting.1.kinds == [.violation, .aborted])
        #expect(aborting.1.actions == [.clearShadows(["checkout.timeout.duration"])])
        #expect(trial.status == .aborted && trial.violations == 1, "max_violations does not apply")
        #expect(aborting.1.events[1].evidence["reason"]?.string?.hasPrefix("sequential violation (error_rate)") == true)
        #expect(aborting.1.events[1].evidence["error_rate.violation_p_value"]?.number.map { $0 <= 0.05 } == true)
    }

    @Test func unknownOutcomesCountAsBad() throws {
        var traffic = Traffic(seed: 16_003)
        var trial = try Self.start(traffic: traffic)
        // 5 % of the shadow's calls nobody can know the outcome of: as bad as failures.
        traffic.record(calls: 1_000, shadowErrors: 0, shadowUnknown: 50, now: seconds(10))
        _ = trial.evaluate(now: seconds(10), live: .zero, shadow: .zero, totals: traffic.totals)
        traffic.record(calls: 1_000, shadowErrors: 0, shadowUnknown: 50, now: seconds(20))
        let step = trial.evaluate(now: seconds(20), live: .zero, shadow: .zero, totals: traffic.totals)
        #expect(trial.status == .aborted, "\(step.kinds)")
    }

    @Test func aStallLosesNothingTheTotalsSaw() throws {
        var traffic = Traffic(seed: 16_004)
        var trial = try Self.start(traffic: traffic)
        _ = Self.run(&trial, &traffic, at: [10])
        traffic.record(calls: 3_000, now: seconds(40))  // recorded while nobody evaluated
        let steps = Self.run(&trial, &traffic, at: [50, 60])
        #expect(!steps[0].1.kinds.contains(.windowRestarted), "a stall does not restart a sequential test")
        #expect(steps[1].1.actions == [.promote(["checkout.timeout.duration"])])
    }

    /// The pipeline registered again (its counters start from zero) while a test runs:
    /// a new test begins instead of looks that would all be ignored until the cost guard.
    /// (Seen while the new counters are below the counts the test began from: new
    /// counters that already passed them by the next evaluation go unseen.)
    @Test func countersThatStartedOverBeginANewTest() throws {
        var traffic = Traffic(seed: 16_008)
        traffic.record(calls: 20_000, now: 0)  // the pipeline served for a while before the trial
        var trial = try Self.start(traffic: traffic)
        _ = Self.run(&trial, &traffic, at: [10, 20, 30])
        var fresh = Traffic(seed: 16_009)
        let first = Self.run(&trial, &fresh, at: [40])[0].1
        #expect(first.kinds == [.windowRestarted])
        #expect(trial.sequentialTest?.since == seconds(40))
        let steps = Self.run(&trial, &fresh, at: [50, 60, 70, 80, 90, 100])
        #expect(steps.firstIndex { !$0.1.actions.isEmpty } == 5, "promoted a whole window after the new test began")
    }

    @Test func aHoldEndsTheTestAndTheNextEvaluationBeginsANewOne() throws {
        var traffic = Traffic(seed: 16_005)
        var trial = try Self.start(traffic: traffic)
        _ = Self.run(&trial, &traffic, at: [10, 20, 30])
        let held = trial.hold(now: seconds(40), reason: "incident")
        #expect(held.kinds == [.windowRestarted, .held])
        #expect(trial.sequentialTest == nil && trial.status == .holding)
        // Frozen calls are never judged: even a bad stretch during the freeze.
        traffic.record(calls: 2_000, shadowErrors: 0.2, now: seconds(50))
        let resumed = Self.run(&trial, &traffic, at: [60])[0].1
        #expect(resumed.kinds.isEmpty && trial.status == .running)
        #expect(trial.sequentialTest?.since == seconds(60))
        let steps = Self.run(&trial, &traffic, at: [70, 80, 90, 100, 110, 120])
        #expect(steps.firstIndex { !$0.1.actions.isEmpty } == 5, "promoted a whole window after the new test began")
        #expect(trial.status == .promoted)
    }

    @Test func aRestoredTrialBeginsANewTestAtItsFirstEvaluation() throws {
        var traffic = Traffic(seed: 16_006)
        var running = try Self.start(traffic: traffic)
        _ = Self.run(&running, &traffic, at: [10, 20, 30])
        // What a state file gives back: no test (its totals were the old process's).
        var trial = ShadowTrial(
            restoring: running.configuration, status: running.status, startedAt: running.startedAt,
            lastEvaluation: running.lastEvaluation, coveredSince: running.coveredSince, violations: running.violations,
            previousValues: running.previousValues, baseline: nil, promotedAt: nil, endedAt: nil,
            lastEvidence: running.lastEvidence)
        #expect(trial.sequentialTest == nil)
        var fresh = Traffic(seed: 16_007)  // the new process's counters start from zero
        let first = Self.run(&trial, &fresh, at: [40])[0].1
        #expect(first.kinds == [.windowRestarted])
        #expect(first.events[0].evidence["reason"]?.string?.contains("do not survive a restart") == true)
        #expect(trial.sequentialTest?.since == seconds(40) && trial.stableFor == 0)
        let steps = Self.run(&trial, &fresh, at: [50, 60, 70, 80, 90, 100])
        #expect(steps.firstIndex { !$0.1.actions.isEmpty } == 5, "promoted 60 s after the new test began, not at the old window's end")
    }

    @Test func theWatchAfterAPromotionStaysTheFixedOne() throws {
        var traffic = Traffic(seed: 16_008)
        var trial = try Self.start(Self.sequential(watch: seconds(30)), traffic: traffic)
        _ = Self.run(&trial, &traffic, at: [10, 20, 30, 40, 50, 60])
        #expect(trial.status == .watching && trial.sequentialTest == nil)
        let regressed = stats(calls: 1_000, failures: 80)
        let step = trial.evaluate(now: seconds(70), live: regressed, shadow: .zero, totals: traffic.totals)
        #expect(step.actions == [.rollback(["checkout.timeout.duration": 0.5])])
    }

    @Test func sequentialCriteriaMustBeJudgeable() {
        var relativeless = Self.sequential()
        relativeless.criteria.p99 = MetricTolerance(absolute: 0.01, relative: 0)
        #expect(
            throws: TrialError.invalidConfiguration(
                "trial \"tighter\": criteria.p99: with judge \"sequential\" a latency tolerance is relative (for example relative = 0.2)")
        ) {
            try relativeless.validate()
        }
        var nothing = Self.sequential()
        nothing.criteria.errorRate = nil
        #expect(throws: TrialError.self) { try nothing.validate() }
    }

    @Test func theTrialsConfidenceIsSplitOverItsMetrics() {
        var configuration = Self.sequential()
        configuration.criteria = TrialCriteria(confidence: 0.99)  // error, rejection, timeout rates and p99
        #expect(abs(configuration.sequentialAlpha - 0.0025) < 1e-12)
    }
}
