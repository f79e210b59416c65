import Resilience
import ShadowEval
import Testing

@Suite struct ShadowTrialTests {
    /// Evaluates every `step` seconds from `from` through `through` with the same windows.
    func run(
        _ trial: inout ShadowTrial, from: Int64, through: Int64, every step: Int64 = 10,
        live: WindowStats = liveStats, shadow: WindowStats
    ) -> [(Int64, TrialStep)] {
        stride(from: from, through: through, by: Int(step)).map { t in
            (t, trial.evaluate(now: seconds(t), live: live, shadow: shadow))
        }
    }

    func promotions(_ steps: [(Int64, TrialStep)]) -> [Int64] {
        steps.filter { $0.1.actions.contains { if case .promote = $0 { true } else { false } } }.map(\.0)
    }

    @Test func startAppliesEveryShadowInOneAction() throws {
        let config = configuration(params: ["a.timeout.duration": 0.3, "a.retry.max_attempts": 2])
        let (trial, step) = try ShadowTrial.start(config, now: 0, liveValues: ["a.timeout.duration": 0.5, "a.retry.max_attempts": 3])
        #expect(step.actions == [.applyShadows(["a.timeout.duration": 0.3, "a.retry.max_attempts": 2])])
        #expect(step.kinds == [.started])
        #expect(trial.status == .running)
        #expect(trial.previousValues == ["a.timeout.duration": 0.5, "a.retry.max_attempts": 3])
    }

    @Test func startRefusesAnUnusableConfiguration() {
        var config = configuration()
        config.window = 0
        #expect(throws: TrialError.self) { try ShadowTrial.start(config, now: 0, liveValues: ["checkout.timeout.duration": 0.5]) }
        #expect(throws: TrialError.self) { try ShadowTrial.start(configuration(), now: 0, liveValues: [:]) }
    }

    @Test func aBetterShadowPromotesAfterExactlyTheWindow() throws {
        var trial = try startedTrial()
        let before = run(&trial, from: 10, through: 50, shadow: betterShadow)
        #expect(promotions(before).isEmpty)
        #expect(trial.status == .running)
        #expect(trial.stableFor == seconds(50))
        let step = trial.evaluate(now: seconds(60), live: liveStats, shadow: betterShadow)
        #expect(step.actions == [.promote(["checkout.timeout.duration"])])
        #expect(step.kinds == [.promoted])
        #expect(trial.status == .watching)
        #expect(trial.promotedAt == seconds(60))
        #expect(step.events[0].evidence["stable_seconds"] == .number(60))
        #expect(step.events[0].evidence["error_rate.candidate"] == .number(0.002))
    }

    @Test func aWorseShadowNeverPromotesAndAbortsAfterKViolations() throws {
        var trial = try startedTrial()
        let steps = run(&trial, from: 10, through: 300, shadow: worseShadow)
        #expect(promotions(steps).isEmpty)
        #expect(trial.status == .aborted)
        #expect(trial.violations == 3)
        let aborting = steps.first { $0.1.kinds.contains(.aborted) }
        #expect(aborting?.0 == 30)
        #expect(aborting?.1.actions == [.clearShadows(["checkout.timeout.duration"])])
        // Nothing happens once the trial has ended.
        #expect(steps.filter { $0.0 > 30 }.allSatisfy { $0.1 == TrialStep() })
    }

    @Test func aViolationRestartsTheWindow() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 20, shadow: betterShadow)
        let violating = trial.evaluate(now: seconds(30), live: liveStats, shadow: worseShadow)
        #expect(violating.kinds == [.windowRestarted, .violation])
        #expect(trial.stableFor == 0)
        // The window counts again from the violation: promotion at 30 + 60.
        let after = run(&trial, from: 40, through: 120, shadow: betterShadow)
        #expect(promotions(after) == [90])
    }

    @Test func aFlappingShadowRestartsItsWindowAndAbortsAfterK() throws {
        var trial = try startedTrial()
        var steps: [(Int64, TrialStep)] = []
        // Four good evaluations, then one bad, repeatedly: never 60 s in a row.
        for t in stride(from: 10, through: 300, by: 10) {
            let shadow = t % 50 == 0 ? worseShadow : betterShadow
            steps.append((Int64(t), trial.evaluate(now: seconds(Int64(t)), live: liveStats, shadow: shadow)))
        }
        #expect(promotions(steps).isEmpty)
        let restarts = steps.filter { $0.1.kinds.contains(.windowRestarted) }.map(\.0)
        #expect(restarts == [50, 100])
        #expect(trial.status == .aborted)
        #expect(steps.first { $0.1.kinds.contains(.aborted) }?.0 == 150)
    }

    @Test func lowTrafficStaysInconclusiveAndNeverPromotes() throws {
        var trial = try startedTrial()
        let steps = run(&trial, from: 10, through: 600, live: quietStats, shadow: quietStats)
        #expect(promotions(steps).isEmpty)
        #expect(trial.status == .holding)
        #expect(steps.allSatisfy { $0.1.kinds == [.inconclusive] })
        #expect(trial.violations == 0)
    }

    @Test func anInconclusiveEvaluationRestartsTheWindow() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 40, shadow: betterShadow)
        let quiet = trial.evaluate(now: seconds(50), live: liveStats, shadow: quietStats)
        #expect(quiet.kinds == [.windowRestarted, .inconclusive])
        #expect(trial.status == .holding)
        let after = run(&trial, from: 60, through: 130, shadow: betterShadow)
        #expect(promotions(after) == [110])
    }

    @Test func aStallRestartsTheWindow() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 30, shadow: betterShadow)
        // 30 s without evaluations (more than twice the 10 s interval).
        let resumed = trial.evaluate(now: seconds(60), live: liveStats, shadow: betterShadow)
        #expect(resumed.kinds == [.windowRestarted])
        #expect(resumed.events[0].evidence["reason"]?.string?.hasPrefix("stall") == true)
        #expect(resumed.actions.isEmpty)
        // Without the stall this would have promoted at 60; the window now counts from 60.
        let after = run(&trial, from: 70, through: 130, shadow: betterShadow)
        #expect(promotions(after) == [120])
    }

    @Test func aGapOfTwiceTheIntervalIsNotAStall() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 20, through: 40, every: 20, shadow: betterShadow)
        let step = trial.evaluate(now: seconds(60), live: liveStats, shadow: betterShadow)
        #expect(step.actions == [.promote(["checkout.timeout.duration"])])
    }

    @Test func aRegressionDuringWatchRollsBack() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 60, shadow: betterShadow)
        #expect(trial.status == .watching)
        _ = trial.evaluate(now: seconds(70), live: liveStats, shadow: .zero)
        let regressed = stats(calls: 1000, failures: 60)
        let step = trial.evaluate(now: seconds(80), live: regressed, shadow: .zero)
        #expect(step.actions == [.rollback(["checkout.timeout.duration": 0.5])])
        #expect(step.kinds == [.rolledBack])
        #expect(trial.status == .rolledBack)
        #expect(step.events[0].evidence["error_rate.reference"] == .number(0.005))
        #expect(step.events[0].evidence["error_rate.candidate"] == .number(0.06))
    }

    @Test func aHealthyWatchEndsPromoted() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 60, shadow: betterShadow)
        let watch = run(&trial, from: 70, through: 90, live: betterShadow, shadow: .zero)
        #expect(watch.map { $0.1.kinds } == [[], [], [.watchCompleted]])
        #expect(watch.allSatisfy { $0.1.actions.isEmpty })
        #expect(trial.status == .promoted)
    }

    @Test func aQuietWatchDoesNotEnd() throws {
        var trial = try startedTrial()
        _ = run(&trial, from: 10, through: 60, shadow: betterShadow)
        _ = run(&trial, from: 70, through: 300, live: quietStats, shadow: .zero)
        #expect(trial.status == .watching)
    }

    @Test func abortClearsShadowsOrRollsBackWhileWatching() throws {
        var running = try startedTrial()
        let aborted = running.abort(now: seconds(5), reason: "by command")
        #expect(aborted.actions == [.clearShadows(["checkout.timeout.duration"])])
        #expect(aborted.kinds == [.aborted])
        #expect(running.status == .aborted)
        #expect(running.abort(now: seconds(6), reason: "again") == TrialStep())

        var watching = try startedTrial()
        _ = run(&watching, from: 10, through: 60, shadow: betterShadow)
        let rolledBack = watching.abort(now: seconds(65), reason: "by command")
        #expect(rolledBack.actions == [.rollback(["checkout.timeout.duration": 0.5])])
        #expect(watching.status == .rolledBack)
    }

    @Test func unknownShadowOutcomesNeverPromote() throws {
        var trial = try startedTrial()
        // No known failures, but a fifth of the shadow's outcomes cannot be known.
        let unknowable = stats(calls: 800, failures: 0, unknown: 200, p99: 0.050)
        let steps = run(&trial, from: 10, through: 600, shadow: unknowable)
        #expect(promotions(steps).isEmpty)
        #expect(trial.status == .aborted)
    }
}
