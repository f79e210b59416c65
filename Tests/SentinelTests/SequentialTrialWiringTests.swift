import Resilience
import ShadowEval
import Testing

@testable import Sentinel

/// `trial.start { judge = "sequential" }` through the control plane, the
/// script engine, the freeze and the state file, on the manual clock.
@Suite struct SequentialTrialWiringTests {
    let timeout = "checkout.timeout.duration"

    static let sequential: [String: JSONValue] = [
        "name": "tighter", "params": ["checkout.timeout.duration": "300ms"], "window": "1m", "interval": "10s",
        "watch": 0, "judge": "sequential",
        "criteria": ["rejection_rate": false, "timeout_rate": false, "p99": false],
    ]

    /// 1,000 calls a side for the last 10 s, failures drawn at each side's rate (seeded).
    func traffic(_ fixture: Fixture, _ random: inout Xoshiro256StarStar, shadowErrors: Double = 0.005) {
        let now = fixture.pipeline.time.now()
        for _ in 0..<1_000 {
            fixture.pipeline.windows.record(random.nextUnit() < 0.005 ? .failure : .success, latency: 40_000_000, now: now)
            fixture.pipeline.shadowWindows.record(random.nextUnit() < shadowErrors ? .failure : .success, latency: 40_000_000, now: now)
        }
    }

    /// Ten seconds of traffic, then the trials' evaluation.
    @discardableResult
    func step(_ fixture: Fixture, _ trials: TrialRunner, _ random: inout Xoshiro256StarStar, shadowErrors: Double = 0.005) -> [Alert] {
        fixture.advance(.seconds(10))
        traffic(fixture, &random, shadowErrors: shadowErrors)
        return trials.evaluateDue()
    }

    func start(_ fixture: Fixture, _ arguments: [String: JSONValue] = sequential) async -> (TrialRunner, CommandOutcome) {
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        let outcome = await fixture.plane.execute(
            "trial.start", arguments, context: CommandContext(identity: .operator("alice"), source: "test", reason: "try it"))
        return (trials, outcome)
    }

    @Test func aScriptsSequentialTrialPromotesAHealthyShadowAfterItsWindow() async throws {
        let fixture = try Fixture()
        let (trials, engine) = try await scriptedTrials(
            fixture,
            source: """
                return {
                  interval = "10s",
                  evaluate = function(state, memory)
                    if not state.trials.tighter then
                      sentinel.trial({ name = "tighter", params = { ["checkout.timeout.duration"] = "300ms" },
                                       window = "1m", interval = "10s", watch = 0, judge = "sequential",
                                       criteria = { rejection_rate = false, timeout_rate = false, p99 = false } })
                    end
                  end,
                }
                """
        )
        fixture.advance(.seconds(10))
        await engine.tick()
        let view = try #require(trials.stateView()["tighter"]?.objectValue)
        #expect(view["judge"] == .string("sequential"))
        #expect(trials.trial(named: "tighter")?.configuration.minSamples == 500, "min_samples defaults to 500")
        var random = Xoshiro256StarStar(seed: 16_101)
        for _ in 0..<5 { step(fixture, trials, &random) }
        #expect(trials.trial(named: "tighter")?.status == .running)
        #expect(trials.trial(named: "tighter")?.lastEvidence["error_rate.verdict"] == .string("pass"))
        step(fixture, trials, &random)
        #expect(trials.trial(named: "tighter")?.status == .promoted)
        #expect(try fixture.value(timeout) == 0.3)
        let promote = try #require(fixture.plane.audit.last)
        #expect(promote.action == "trial.promote" && promote.actor == "sentinel")
        #expect(promote.reason?.contains("the sequential test passed") == true)
        let evidence = try #require(promote.evidence?.objectValue)
        #expect(evidence["judge"] == .string("sequential") && evidence["observed_seconds"] == .double(60))
        for key in [
            "error_rate.difference", "error_rate.difference_lower", "error_rate.difference_upper", "error_rate.looks",
            "error_rate.violation_p_value", "error_rate.pass_p_value", "alpha",
        ] {
            #expect(evidence[key] != nil, "no \(key) in the evidence")
        }
    }

    @Test func aWorseShadowIsAbortedBeforeTheWindowAtItsFirstViolation() async throws {
        let fixture = try Fixture()
        let (trials, started) = await start(fixture)
        #expect(started.outcome == .applied)
        var random = Xoshiro256StarStar(seed: 16_102)
        var seconds = 0
        while trials.trial(named: "tighter")?.status == .running, seconds < 60 {
            step(fixture, trials, &random, shadowErrors: 0.05)
            seconds += 10
        }
        let trial = try #require(trials.trial(named: "tighter"))
        #expect(trial.status == .aborted && seconds < 60, "aborted at \(seconds) s")
        #expect(trial.violations == 1)
        #expect(try fixture.registry.parameter(timeout).shadow == nil)
        let abort = try #require(fixture.plane.audit.last)
        #expect(abort.action == "trial.abort" && abort.actor == "sentinel")
        #expect(abort.reason?.hasPrefix("sequential violation (error_rate)") == true)
    }

    @Test func onAFleetsLeaderATrialJudgesTheFleetsCallsAndANewMergeStartsItsTestAgain() async throws {
        let leader = try Fixture()
        // Another instance, whose shadow fails 5 % of its calls; the leader's own shadow is healthy.
        let other = try Fixture()
        let merged = Locked(FleetStatistics())
        var publishers = [SlicePublisher(instance: "leader"), SlicePublisher(instance: "other")]
        let trials = TrialRunner(plane: leader.plane, logger: .silent)
        trials.setStatisticsProvider { merged.withLock { $0 } }
        trials.registerCommands()
        let started = await leader.plane.execute(
            "trial.start", Self.sequential, context: CommandContext(identity: .operator("alice"), source: "test", reason: "try it"))
        #expect(started.outcome == .applied)
        var random = Xoshiro256StarStar(seed: 16_103)
        var slice: Int64 = 0
        func step(otherShadowErrors: Double) -> TrialEvent? {
            slice += 1
            leader.advance(.seconds(10))
            traffic(leader, &random)
            traffic(other, &random, shadowErrors: otherShadowErrors)
            for (index, fixture) in [leader, other].enumerated() {
                merged.withLock { $0 }.merge(publishers[index].report(slice: slice, pipelines: [fixture.pipeline]))
            }
            _ = trials.evaluateDue()
            return trials.records.withLock { $0["tighter"]?.lastEvent }
        }
        for _ in 0..<2 { _ = step(otherShadowErrors: 0.005) }
        #expect(trials.trial(named: "tighter")?.status == .running)
        let evidence = try #require(trials.trial(named: "tighter")?.lastEvidence)
        #expect(evidence["error_rate.candidate_calls"] == .number(2 * 2 * 1_000), "both instances' calls: \(evidence)")

        // A new leader's merge: the test starts again on it (its counts come from other statistics).
        merged.withLock { $0 = FleetStatistics() }
        let restarted = step(otherShadowErrors: 0.005)
        #expect(
            restarted?.evidence["reason"]?.string?.contains("its counts come from other statistics now") == true,
            "\(String(describing: restarted))")

        // Only the other instance's shadow is worse: judged on the fleet's calls, the trial is aborted.
        var seconds = 0
        while trials.trial(named: "tighter")?.status == .running, seconds < 120 {
            _ = step(otherShadowErrors: 0.08)
            seconds += 10
        }
        #expect(trials.trial(named: "tighter")?.status == .aborted, "after \(seconds) s")
        #expect(leader.plane.audit.last?.reason?.hasPrefix("sequential violation (error_rate)") == true)
    }

    @Test func theDefaultJudgeIsTheFixedOne() async throws {
        let fixture = try Fixture()
        let (trials, started) = await start(
            fixture, ["name": "tighter", "params": ["checkout.timeout.duration": "300ms"], "min_samples": 20])
        #expect(started.outcome == .applied)
        let trial = try #require(trials.trial(named: "tighter"))
        #expect(trial.configuration.judge == .fixed && trial.sequentialTest == nil)
        #expect(trials.stateView()["tighter"]?.objectValue?["judge"] == .string("fixed"))
        let saved = try #require(trials.persisted().arrayValue?.first?.objectValue)
        #expect(saved["judge"] == nil && saved["max_violations"] == .int(3), "a fixed trial is saved as before")
    }

    static let badJudges: [(JSONValue, String, String)] = [
        ("bayesian", "judge", "trial tighter: judge must be \"fixed\" or \"sequential\", got \"bayesian\""),
        (1, "judge", "trial tighter: judge must be \"fixed\" or \"sequential\", got 1"),
        ("sequential", "max_violations", "trial tighter: max_violations does not apply to judge \"sequential\""),
        ("sequential", "criteria", "criteria.p99: with judge \"sequential\" a latency tolerance is relative"),
    ]

    @Test(arguments: badJudges)
    func badJudgeArgumentsAreRejectedNamingTheField(judge: JSONValue, field: String, message: String) async throws {
        let fixture = try Fixture()
        var arguments = Self.sequential
        arguments["judge"] = judge
        if field == "max_violations" { arguments["max_violations"] = 2 }
        if field == "criteria" { arguments["criteria"] = ["p99": ["absolute": 0.01, "relative": 0]] }
        let (_, outcome) = await start(fixture, arguments)
        #expect(outcome.outcome == .rejected)
        #expect(outcome.error?.message.contains(message) == true, "got: \(outcome.error?.message ?? "no error")")
        #expect(try fixture.registry.parameter(timeout).shadow == nil, "a rejected trial changes nothing")
    }

    @Test func aRestoredSequentialTrialBeginsANewTestAndObservesAWholeWindowAgain() async throws {
        let first = try Fixture()
        let (trials, started) = await start(first)
        #expect(started.outcome == .applied)
        var random = Xoshiro256StarStar(seed: 16_103)
        for _ in 0..<3 { step(first, trials, &random) }
        let saved = first.plane.persistedState(trials: trials.persisted())
        let savedTrial = try #require(saved.trials.arrayValue?.first?.objectValue)
        #expect(savedTrial["judge"] == .string("sequential") && savedTrial["max_violations"] == nil)
        let reread = try PersistedState(jsonValue: try JSONParser().parse(saved.jsonValue.jsonString()))

        let second = try Fixture(epoch: 1_800_000_000 + 35)
        let restored = TrialRunner(plane: second.plane, logger: .silent)
        restored.registerCommands()
        #expect(second.plane.restore(reread).isEmpty)
        #expect(restored.restore(reread.trials).isEmpty)
        let trial = try #require(restored.trial(named: "tighter"))
        #expect(trial.configuration.judge == .sequential && trial.configuration.minSamples == 500)
        #expect(trial.sequentialTest == nil, "the test's counts went with the old process")
        step(second, restored, &random)  // wall: 45 s
        #expect(restored.stateView()["tighter"]?.objectValue?["last_event"] == .string("window_restarted"))
        #expect(restored.trial(named: "tighter")?.sequentialTest != nil)
        for _ in 0..<5 { step(second, restored, &random) }  // wall: 95 s, the old window's end long past
        #expect(restored.trial(named: "tighter")?.status == .running, "observed 50 s since the new test began")
        step(second, restored, &random)
        #expect(restored.trial(named: "tighter")?.status == .promoted)
    }

    @Test func aFreezeHoldsASequentialTrialAndItsTestBeginsAgainAfterTheUnfreeze() async throws {
        let fixture = try Fixture()
        let (trials, started) = await start(fixture)
        #expect(started.outcome == .applied)
        var random = Xoshiro256StarStar(seed: 16_104)
        for _ in 0..<3 { step(fixture, trials, &random) }
        let operatorContext = CommandContext(identity: .operator("alice"), reason: "incident 42")
        #expect(await fixture.plane.execute("automation.freeze", [:], context: operatorContext).outcome == .applied)
        for _ in 0..<6 {
            step(fixture, trials, &random, shadowErrors: 0.2)  // what happens while frozen is never judged
            let trial = try #require(trials.trial(named: "tighter"))
            #expect(trial.status == .holding && trial.sequentialTest == nil)
            #expect(try fixture.value(timeout) == 0.5, "a frozen trial never promotes")
        }
        #expect(fixture.plane.audit.entries.filter { $0.action == "trial.hold" }.count == 1)
        #expect(await fixture.plane.execute("automation.unfreeze", [:], context: operatorContext).outcome == .applied)
        step(fixture, trials, &random)  // begins the new test
        #expect(trials.trial(named: "tighter")?.status == .running)
        for _ in 0..<5 { step(fixture, trials, &random) }
        #expect(trials.trial(named: "tighter")?.status == .running)
        step(fixture, trials, &random)
        #expect(trials.trial(named: "tighter")?.status == .promoted, "a whole window after the first evaluation after the unfreeze")
    }
}
