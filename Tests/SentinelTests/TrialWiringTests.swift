import Resilience
import ShadowEval
import Testing

@testable import Sentinel

/// Shadow trials through the control plane, the script engine and the state
/// file, on the manual clock.
@Suite struct TrialWiringTests {
    let timeout = "checkout.timeout.duration"
    let attempts = "checkout.retry.max_attempts"

    /// Calls recorded for the last 10 s into the live and shadow windows alike.
    func traffic(_ fixture: Fixture, calls: Int = 50, shadowFails: Int = 0) {
        let now = fixture.pipeline.time.now()
        for index in 0..<calls {
            fixture.pipeline.windows.record(.success, latency: 40_000_000, now: now)
            fixture.pipeline.shadowWindows.record(index < shadowFails ? .timeout : .success, latency: 40_000_000, now: now)
        }
    }

    func start(_ plane: ControlPlane, _ arguments: [String: JSONValue], as identity: Identity = .operator("alice")) async -> CommandOutcome
    {
        await plane.execute("trial.start", arguments, context: CommandContext(identity: identity, source: "test", reason: "try it"))
    }

    static let tighter: [String: JSONValue] = [
        "name": "tighter", "params": ["checkout.timeout.duration": "300ms"], "window": "1m", "interval": "10s",
        "min_samples": 20, "watch": 0,
    ]

    @Test func aScriptStartsATrialThatPromotesItselfAfterExactlyItsWindow() async throws {
        let fixture = try Fixture()
        let (trials, engine) = try await scriptedTrials(
            fixture,
            source: """
                return {
                  interval = "10s",
                  evaluate = function(state, memory)
                    local trial = state.trials.tighter
                    if not trial then
                      sentinel.trial({ name = "tighter", params = { ["checkout.timeout.duration"] = "300ms" },
                                       window = "1m", interval = "10s", min_samples = 20, watch = 0 }, "p99 leaves room")
                    elseif trial and trial.status == "promoted" then
                      sentinel.set("checkout.retry.max_attempts", 2, "the trial promoted")
                    end
                  end,
                }
                """
        )
        fixture.advance(.seconds(10))  // the script's first turn
        await engine.tick()
        #expect(try fixture.registry.parameter(timeout).shadow == 0.3)
        #expect(fixture.plane.audit.last?.action == "trial.start" && fixture.plane.audit.last?.actor == "script:trial")
        for second in stride(from: 10, through: 50, by: 10) {
            fixture.advance(.seconds(10))
            traffic(fixture)
            trials.evaluateDue()
            #expect(trials.trial(named: "tighter")?.status == .running, "still running at \(second) s")
        }
        fixture.advance(.seconds(10))
        traffic(fixture)
        trials.evaluateDue()
        #expect(trials.trial(named: "tighter")?.status == .promoted)
        #expect(try fixture.value(timeout) == 0.3)
        let promote = try #require(fixture.plane.audit.last)
        #expect(promote.action == "trial.promote" && promote.actor == "sentinel" && promote.target == "tighter")
        #expect(promote.evidence?.objectValue?["stable_seconds"] == .double(60))
        #expect(promote.evidence?.objectValue?["timeout_rate.candidate"] != nil)
        // Scripts see it in state.trials.
        fixture.advance(.seconds(10))
        await engine.tick()
        #expect(try fixture.value(attempts) == 2)
        let view = try #require(trials.stateView()["tighter"]?.objectValue)
        #expect(view["status"] == .string("promoted") && view["last_event"] == .string("promoted"))
    }

    @Test func aWorseShadowIsAbortedAfterKViolationsAndAudited() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        var arguments = Self.tighter
        arguments["max_violations"] = 2
        #expect(await start(fixture.plane, arguments).outcome == .applied)
        for _ in 0..<2 {
            fixture.advance(.seconds(10))
            traffic(fixture, calls: 200, shadowFails: 40)  // 20 % would-be timeouts
            trials.evaluateDue()
        }
        #expect(trials.trial(named: "tighter")?.status == .aborted)
        #expect(try fixture.registry.parameter(timeout).shadow == nil)
        #expect(try fixture.value(timeout) == 0.5)
        let abort = try #require(fixture.plane.audit.last)
        #expect(abort.action == "trial.abort" && abort.actor == "sentinel")
        #expect(abort.reason?.contains("2 violations") == true)
    }

    @Test func abortByCommandIsAuditedOnceAsTheCommand() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        #expect(await start(fixture.plane, Self.tighter).outcome == .applied)
        let outcome = await fixture.plane.execute(
            "trial.abort", ["name": "tighter"],
            context: CommandContext(identity: .operator("alice"), reason: "not now"))
        #expect(outcome.outcome == .applied)
        #expect(try fixture.registry.parameter(timeout).shadow == nil)
        let trialEntries = fixture.plane.audit.entries.filter { $0.action.hasPrefix("trial.") }
        #expect(trialEntries.map(\.action) == ["trial.start", "trial.abort"])
        #expect(trialEntries.map(\.actor) == ["operator:alice", "operator:alice"])
        let again = await fixture.plane.execute("trial.abort", ["name": "nope"], context: CommandContext(identity: .operator("alice")))
        #expect(again.outcome == .rejected && again.error?.message == "no trial named nope")
    }

    @Test func theCostGuardStopsShadowingWithAnAlert() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        var arguments = Self.tighter
        arguments["max_duration"] = "30s"
        #expect(await start(fixture.plane, arguments).outcome == .applied)
        var alerts: [Alert] = []
        for _ in 0..<4 {
            fixture.advance(.seconds(10))  // no traffic: inconclusive, never promoted
            alerts += trials.evaluateDue()
        }
        #expect(trials.trial(named: "tighter")?.status == .aborted)
        #expect(alerts.count == 1 && alerts[0].message.contains("cost guard"))
        #expect(fixture.plane.audit.last?.reason?.contains("cost guard: not promoted within max_duration") == true)
        #expect(try fixture.registry.parameter(timeout).shadow == nil)
    }

    @Test func theShadowCallBudgetIsACostGuardToo() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        var arguments = Self.tighter
        arguments["max_shadow_calls"] = 120
        #expect(await start(fixture.plane, arguments).outcome == .applied)
        for _ in 0..<4 {
            fixture.advance(.seconds(10))
            traffic(fixture, calls: 50)
            trials.evaluateDue()
        }
        #expect(trials.trial(named: "tighter")?.status == .aborted)
        #expect(fixture.plane.audit.last?.reason?.contains("over max_shadow_calls (120)") == true)
    }

    @Test func aLooserCandidateIsFlaggedWhenTheTrialStarts() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        var arguments = Self.tighter
        arguments["params"] = ["checkout.timeout.duration": 1.5]
        let outcome = await start(fixture.plane, arguments)
        #expect(outcome.outcome == .applied)
        let warnings = outcome.result?.objectValue?["warnings"]?.arrayValue ?? []
        #expect(warnings.count == 1)
        #expect(warnings.first?.stringValue?.contains("looser than live") == true)
        #expect(trials.stateView()["tighter"]?.objectValue?["warnings"]?.arrayValue?.count == 1)
    }

    static let badArguments: [([String: JSONValue], String)] = {
        let knob: [String: JSONValue] = ["checkout.timeout.duration": 0.3]
        func with(_ key: String, _ value: JSONValue) -> [String: JSONValue] {
            var arguments: [String: JSONValue] = ["name": "t", "params": .object(knob)]
            arguments[key] = value
            return arguments
        }
        var cases: [([String: JSONValue], String)] = []
        cases.append((with("colour", "red"), "unknown field 'colour'"))
        cases.append((["name": "t"], "params"))
        cases.append((with("params", .object([:])), "params names no knob"))
        cases.append((with("params", ["checkout.nope.knob": 1]), "checkout.nope.knob"))
        cases.append(
            (with("params", ["checkout.timeout.duration": 0.3, "other.timeout.duration": 0.3]), "every knob must belong to one pipeline"))
        cases.append((with("window", -5), "window must be between 0 and 30 days"))
        cases.append((with("window", 0), "window must be positive"))
        cases.append((with("min_samples", 0.5), "min_samples must be a whole number"))
        cases.append((with("criteria", ["p95": false]), "criteria: unknown field 'p95'"))
        cases.append((with("criteria", ["p99": 5]), "criteria.p99 must be"))
        cases.append((with("criteria", ["confidence": 1.5]), "confidence must be between 0.5 and 1"))
        cases.append((with("params", ["checkout.timeout.duration": 99999]), "outside"))
        return cases
    }()

    @Test(arguments: badArguments)
    func badTrialArgumentsAreRejectedNamingTheField(arguments: [String: JSONValue], message: String) async throws {
        let fixture = try Fixture()
        _ = try Pipeline("other", registry: fixture.registry, time: ClockTimeSource(fixture.clock)) { Timeout(.seconds(1)) }
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        let outcome = await start(fixture.plane, arguments)
        #expect(outcome.outcome == .rejected, "\(outcome)")
        #expect(outcome.error?.message.contains(message) == true, "got: \(outcome.error?.message ?? "no error")")
        #expect(try fixture.registry.parameter(timeout).shadow == nil, "a rejected trial changes nothing")
    }

    /// Saves after 30 s of a 60 s window; a new process restores it `downtime` later.
    func restart(downtime: Int64) async throws -> (Fixture, TrialRunner) {
        let first = try Fixture()
        let trials = TrialRunner(plane: first.plane, logger: .silent)
        trials.registerCommands()
        #expect(await start(first.plane, Self.tighter).outcome == .applied)
        for _ in 0..<3 {
            first.advance(.seconds(10))
            traffic(first)
            trials.evaluateDue()
        }
        let saved = first.plane.persistedState(trials: trials.persisted())
        let reread = try PersistedState(jsonValue: try JSONParser().parse(saved.jsonValue.jsonString()))

        let second = try Fixture(epoch: 1_800_000_000 + 30 + Double(downtime))
        let restored = TrialRunner(plane: second.plane, logger: .silent)
        restored.registerCommands()
        #expect(second.plane.restore(reread).isEmpty)
        #expect(restored.restore(reread.trials).isEmpty)
        return (second, restored)
    }

    @Test func aQuickRestartResumesTheTrialAndItsWindow() async throws {
        let (fixture, trials) = try await restart(downtime: 5)
        let trial = try #require(trials.trial(named: "tighter"))
        #expect(trial.status == .running && trial.previousValues == [timeout: 0.5])
        #expect(try fixture.registry.parameter(timeout).shadow == 0.3, "the shadow is back with the knobs")
        #expect(trial.stableFor == 30_000_000_000)
        // Back within two intervals: the window goes on and promotes at its original end (60 s).
        fixture.advance(.seconds(5))  // wall: 40 s
        for _ in 0..<2 {
            traffic(fixture)
            trials.evaluateDue()
            fixture.advance(.seconds(10))
        }
        #expect(trials.trial(named: "tighter")?.status == .running)
        traffic(fixture)
        trials.evaluateDue()  // wall: 60 s
        #expect(trials.trial(named: "tighter")?.status == .promoted)
    }

    @Test func aLongRestartCountsNothingUnobserved() async throws {
        let (fixture, trials) = try await restart(downtime: 120)
        fixture.advance(.seconds(10))
        traffic(fixture)
        trials.evaluateDue()
        let trial = try #require(trials.trial(named: "tighter"))
        #expect(trial.status == .running)
        #expect(trial.stableFor == 0, "the stall restarted the window")
        #expect(trials.stateView()["tighter"]?.objectValue?["last_event"] == .string("window_restarted"))
    }

    @Test func promotionUnderConcurrentLoadIsAtomic() async throws {
        let fixture = try Fixture()
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        var arguments = Self.tighter
        arguments["params"] = [timeout: 0.3, attempts: 2]
        #expect(await start(fixture.plane, arguments).outcome == .applied)
        let table = fixture.pipeline.knobs
        let timeoutIndex = try #require(table.index(of: timeout))
        let attemptsIndex = try #require(table.index(of: attempts))
        let mixed = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mixed = 0
                    for _ in 0..<20_000 {
                        let snapshot = table.read()  // what one call reads
                        let pair = (snapshot.value(timeoutIndex), snapshot.value(attemptsIndex))
                        if !(pair == (0.5, 3) || pair == (0.3, 2)) { mixed += 1 }
                    }
                    return mixed
                }
            }
            for _ in 0..<6 {
                fixture.advance(.seconds(10))
                traffic(fixture)
                trials.evaluateDue()
            }
            return await group.reduce(0, +)
        }
        #expect(trials.trial(named: "tighter")?.status == .promoted)
        #expect(mixed == 0)
    }
}
