import Resilience
import ShadowEval
import Testing

@testable import Sentinel

/// `automation.freeze` stops every automated change: scripts' commands, and
/// shadow trials (which hold, and restart their window after the unfreeze).
@Suite struct FreezeTests {
    let timeout = "checkout.timeout.duration"

    /// Calls for the last 10 s into the live and shadow windows.
    func traffic(_ fixture: Fixture, calls: Int = 50, liveFails: Int = 0, latency: Int64 = 40_000_000) {
        let now = fixture.pipeline.time.now()
        for index in 0..<calls {
            fixture.pipeline.windows.record(index < liveFails ? .failure : .success, latency: latency, now: now)
            fixture.pipeline.shadowWindows.record(.success, latency: latency, now: now)
        }
    }

    func operatorCommand(_ fixture: Fixture, _ name: String, _ arguments: [String: JSONValue] = [:]) async -> CommandOutcome {
        await fixture.plane.execute(name, arguments, context: CommandContext(identity: .operator("alice"), reason: "incident 42"))
    }

    func startTrial(_ fixture: Fixture, watch: JSONValue = 0) async throws -> TrialRunner {
        let trials = TrialRunner(plane: fixture.plane, logger: .silent)
        trials.registerCommands()
        let started = await operatorCommand(
            fixture, "trial.start",
            [
                "name": "tighter", "params": [timeout: "300ms"], "window": "1m", "interval": "10s",
                "min_samples": 20, "watch": watch,
            ])
        #expect(started.outcome == .applied)
        return trials
    }

    func step(_ fixture: Fixture, _ trials: TrialRunner, liveFails: Int = 0) -> [Alert] {
        fixture.advance(.seconds(10))
        traffic(fixture, liveFails: liveFails)
        return trials.evaluateDue()
    }

    @Test func aFreezeHoldsARunningTrialAndItsWindowRestartsAfterTheUnfreeze() async throws {
        let fixture = try Fixture()
        let trials = try await startTrial(fixture)
        for _ in 0..<3 { _ = step(fixture, trials) }  // 30 s of the 60 s window covered
        #expect(trials.trial(named: "tighter")?.stableFor == 30_000_000_000)
        #expect(await operatorCommand(fixture, "automation.freeze").outcome == .applied)
        for _ in 0..<12 {  // two minutes frozen: long past the window
            _ = step(fixture, trials)
            let trial = try #require(trials.trial(named: "tighter"))
            #expect(trial.status == .holding && trial.heldSince != nil && trial.stableFor == 0)
            #expect(try fixture.value(timeout) == 0.5, "a frozen trial never promotes")
        }
        let holds = fixture.plane.audit.entries.filter { $0.action == "trial.hold" }
        #expect(holds.count == 1, "the hold is audited once per freeze")
        #expect(holds.first?.actor == "sentinel" && holds.first?.target == "tighter")
        #expect(holds.first?.reason?.contains("automation is frozen by operator:alice: incident 42") == true)
        #expect(trials.stateView()["tighter"]?.objectValue?["held"] == .bool(true))

        #expect(await operatorCommand(fixture, "automation.unfreeze").outcome == .applied)
        // The first evaluation after the unfreeze covers nothing before itself;
        // six more (60 s) complete the window.
        for evaluation in 0..<6 {
            _ = step(fixture, trials)
            #expect(trials.trial(named: "tighter")?.status == .running, "evaluation \(evaluation)")
        }
        _ = step(fixture, trials)
        #expect(trials.trial(named: "tighter")?.status == .promoted)
        #expect(try fixture.value(timeout) == 0.3)
        #expect(trials.stateView()["tighter"]?.objectValue?["held"] == .bool(false))
    }

    @Test func aRegressionInAFrozenWatchIsAlertedEveryIntervalNotRolledBack() async throws {
        let fixture = try Fixture()
        let trials = try await startTrial(fixture, watch: "5m")
        for _ in 0..<7 { _ = step(fixture, trials) }
        #expect(trials.trial(named: "tighter")?.status == .watching)
        #expect(try fixture.value(timeout) == 0.3)
        #expect(await operatorCommand(fixture, "automation.freeze").outcome == .applied)
        for interval in 0..<5 {
            let alerts = step(fixture, trials, liveFails: 25)
            #expect(alerts.count == 1 && alerts.first?.severity == .critical, "interval \(interval)")
            #expect(alerts.first?.message.contains("the rollback is held") == true)
            #expect(trials.trial(named: "tighter")?.status == .watching)
            #expect(try fixture.value(timeout) == 0.3, "no rollback while frozen")
        }
        let held = fixture.plane.audit.entries.filter { $0.action == "trial.rollback" }
        #expect(held.count == 1 && held.first?.outcome == .denied && held.first?.actor == "sentinel")
        #expect(held.first?.reason?.hasPrefix("automation is frozen by operator:alice") == true)
        #expect(held.first?.evidence != nil)

        #expect(await operatorCommand(fixture, "automation.unfreeze").outcome == .applied)
        _ = step(fixture, trials, liveFails: 25)
        #expect(trials.trial(named: "tighter")?.status == .rolledBack)
        #expect(try fixture.value(timeout) == 0.5, "the regression rolls back once unfrozen")
        let rollbacks = fixture.plane.audit.entries.filter { $0.action == "trial.rollback" }
        #expect(rollbacks.last?.outcome == .applied)
    }

    @Test func aSecondFreezeAuditsItsHoldAgain() async throws {
        let fixture = try Fixture()
        let trials = try await startTrial(fixture)
        for _ in 0..<2 {
            _ = await operatorCommand(fixture, "automation.freeze")
            _ = step(fixture, trials)
            _ = step(fixture, trials)
            _ = await operatorCommand(fixture, "automation.unfreeze")
            _ = step(fixture, trials)
        }
        #expect(fixture.plane.audit.entries.filter { $0.action == "trial.hold" }.count == 2)
    }

    @Test func aHeldTrialStaysHeldAcrossARestart() async throws {
        let fixture = try Fixture()
        let trials = try await startTrial(fixture)
        _ = await operatorCommand(fixture, "automation.freeze")
        _ = step(fixture, trials)
        let saved = trials.persisted()
        let restored = TrialRunner(plane: fixture.plane, logger: .silent)
        #expect(restored.restore(saved, now: fixture.plane.time.now()).isEmpty)
        #expect(restored.trial(named: "tighter")?.heldSince != nil)
    }
}
