import Logging
import Resilience
import ShadowEval
import Testing

@testable import Sentinel

/// Every change of a live or shadow value goes through the control plane:
/// a registry attached to one refuses direct writes, and a trial's promotion
/// and rollback pass the plane's rules (``ChangeRules``) and its audit.
@Suite struct OneDoorTests {
    let timeout = "checkout.timeout.duration"

    @Test func anAttachedRegistryRefusesDirectWritesAndKeepsReading() throws {
        let fixture = try Fixture()
        #expect(fixture.registry.owner == "its control plane")
        #expect(throws: KnobError.self) { try fixture.registry.set(timeout, 1) }
        do {
            try fixture.registry.apply([.setShadow(timeout, 0.25)])
            Issue.record("an attached registry accepted a direct write")
        } catch {
            #expect(error.code == .attached)
            #expect(error.message.contains("changed only through its control plane"))
        }
        let handle = try fixture.registry.adaptive(timeout, as: Double.self)
        #expect(throws: KnobError.self) { try handle.set(1) }
        #expect(try fixture.value(timeout) == 0.5, "nothing changed")
        #expect(handle.value == 0.5, "reads are unaffected")
        // A registry on its own keeps its setters (docs/policies.md).
        let alone = ParameterRegistry()
        _ = try Pipeline("solo", registry: alone) { Timeout(.seconds(1)) }
        try alone.set("solo.timeout.duration", 2)
        #expect(try alone.value("solo.timeout.duration") == 2)
    }

    @Test func commandsChangeKnobsThroughThePlane() async throws {
        let fixture = try Fixture()
        #expect(await fixture.set(timeout, 1, as: .operator("alice")).outcome == .applied)
        #expect(try fixture.value(timeout) == 1)
    }

    func startedTrial(_ fixture: Fixture, records: LogRecorder? = nil) async throws -> TrialRunner {
        let trials = TrialRunner(plane: fixture.plane, logger: records?.logger ?? .silent)
        trials.registerCommands()
        let started = await fixture.plane.execute(
            "trial.start",
            ["name": "tighter", "params": [timeout: "300ms"], "window": "30s", "interval": "10s", "min_samples": 20, "watch": "1m"],
            context: CommandContext(identity: .operator("alice")))
        #expect(started.outcome == .applied)
        return trials
    }

    func step(_ fixture: Fixture, _ trials: TrialRunner, liveFails: Int = 0) {
        fixture.advance(.seconds(10))
        let now = fixture.pipeline.time.now()
        for index in 0..<50 {
            fixture.pipeline.windows.record(index < liveFails ? .failure : .success, latency: 40_000_000, now: now)
            fixture.pipeline.shadowWindows.record(.success, latency: 40_000_000, now: now)
        }
        trials.evaluateDue()
    }

    @Test func aPromotionPassesTheStepGuardsAndIsAuditedAsRefusedUntilItMay() async throws {
        // 0.5 s → 0.3 s is a step down of 0.2: a guard that allows 0.1 holds the promotion back.
        let fixture = try Fixture(guards: GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.timeout.*", maxStepDown: 0.1)]))
        let records = LogRecorder()
        let trials = try await startedTrial(fixture, records: records)
        for _ in 0..<3 { step(fixture, trials) }
        let refused = try #require(fixture.plane.audit.entries.last { $0.action == "trial.promote" })
        #expect(refused.outcome == .rejected && refused.actor == "sentinel")
        #expect(refused.reason?.contains("max_step_down 0.1") == true)
        #expect(refused.evidence != nil, "the evidence of the evaluation is kept")
        #expect(trials.trial(named: "tighter")?.status == .running, "the trial keeps its state")
        #expect(try fixture.value(timeout) == 0.5)
        #expect(records.messages.contains { $0.contains("trial.promote not applied") })
        // Tried again at the next interval, not at every wake-up.
        let attempts = fixture.plane.audit.entries.filter { $0.action == "trial.promote" }.count
        trials.evaluateDue()
        #expect(fixture.plane.audit.entries.filter { $0.action == "trial.promote" }.count == attempts)
        // Once the guard allows it, the next evaluation promotes.
        fixture.plane.guards = GuardPolicy()
        step(fixture, trials)
        #expect(trials.trial(named: "tighter")?.status == .watching)
        #expect(fixture.plane.audit.entries.last { $0.action == "trial.promote" }?.outcome == .applied)
        #expect(try fixture.value(timeout) == 0.3)
    }

    @Test func aPromotionWaitsForTheMinimumInterval() async throws {
        let fixture = try Fixture(
            guards: GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.timeout.*", minInterval: .seconds(120))]))
        let trials = try await startedTrial(fixture)
        #expect(await fixture.set(timeout, 0.6, as: .operator("alice")).outcome == .applied)
        for _ in 0..<3 { step(fixture, trials) }
        #expect(fixture.plane.audit.entries.last { $0.action == "trial.promote" }?.reason?.contains("min_interval is 120s") == true)
        #expect(try fixture.value(timeout) == 0.6)
        for _ in 0..<9 { step(fixture, trials) }
        #expect(try fixture.value(timeout) == 0.3, "promoted once 120 s passed since the last change")
    }

    @Test func aRollbackPassesTheBoundsOnlyNeverAStepOrIntervalGuard() async throws {
        let fixture = try Fixture()
        let trials = try await startedTrial(fixture)
        for _ in 0..<3 { step(fixture, trials) }
        #expect(trials.trial(named: "tighter")?.status == .watching)
        // Guards meant for ramps: a step of 0.01 at most, one change an hour.
        fixture.plane.guards = GuardPolicy(parameters: [
            ParameterGuard(pattern: "checkout.timeout.*", maxStepUp: 0.01, maxStepDown: 0.01, minInterval: .seconds(3600))
        ])
        step(fixture, trials, liveFails: 25)
        #expect(trials.trial(named: "tighter")?.status == .rolledBack)
        #expect(try fixture.value(timeout) == 0.5)
        let rollback = try #require(fixture.plane.audit.entries.last { $0.action == "trial.rollback" })
        #expect(rollback.outcome == .applied && rollback.actor == "sentinel")
        #expect(rollback.args["restored"].objectValue?[timeout] == .double(0.5))
    }

    @Test func aRollbackOutsideAGuardsBoundsIsRefused() async throws {
        let fixture = try Fixture()
        let trials = try await startedTrial(fixture)
        for _ in 0..<3 { step(fixture, trials) }
        fixture.plane.guards = GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.timeout.*", maximum: 0.4)])
        step(fixture, trials, liveFails: 25)
        let refused = try #require(fixture.plane.audit.entries.last { $0.action == "trial.rollback" })
        #expect(refused.outcome == .rejected && refused.reason?.contains("above the maximum 0.4") == true)
        #expect(trials.trial(named: "tighter")?.status == .watching)
    }

    @Test(arguments: [ChangeRules.promotion, .rollback])
    func theFreezeHoldsAutomaticChangesButNotOperators(_ rules: ChangeRules) async throws {
        let fixture = try Fixture()
        _ = await fixture.plane.execute("automation.freeze", ["reason": "incident"], context: CommandContext(identity: .operator("alice")))
        let held = fixture.plane.change(
            [.set(timeout, 1)], rules: rules, record: ChangeRecord(action: "test.change", target: timeout, reason: "why"))
        #expect(held.outcome == .denied && held.entry?.reason?.contains("automation is frozen by operator:alice: incident") == true)
        #expect(try fixture.value(timeout) == 0.5)
        let byOperator = fixture.plane.change([.set(timeout, 1)], rules: rules, by: .operator("alice"), record: nil)
        #expect(byOperator.outcome == .applied)
        #expect(try fixture.value(timeout) == 1)
    }

    @Test func shadowsAreNotHeldByTheFreeze() async throws {
        let fixture = try Fixture()
        _ = await fixture.plane.execute("automation.freeze", [:], context: CommandContext(identity: .operator("alice")))
        #expect(fixture.plane.change([.setShadow(timeout, 0.3)], rules: .shadows, record: nil).outcome == .applied)
        #expect(try fixture.registry.parameter(timeout).shadow == 0.3)
    }
}

/// Collects what is logged, for tests that check a message was written once.
final class LogRecorder: Sendable {
    /// One logged message with its level and the metadata passed with it.
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lines = Locked<[Entry]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(recorder: self) } }
    var messages: [String] { lines.withLock { $0.map(\.message) } }
    var entries: [Entry] { lines.withLock { $0 } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let entry = Entry(level: event.level, message: event.message.description, metadata: event.metadata ?? [:])
            recorder.lines.withLock { $0.append(entry) }
        }
    }
}
