import Resilience
import Testing

@testable import Sentinel

/// What fleet mode moves between instances: one runtime's state read as a
/// ``DesiredState`` and applied to another, as it was decided.
@Suite struct ReplicationTests {
    struct Instance {
        let fixture: Fixture
        let runtime: SentinelRuntime

        init(guards: GuardPolicy = GuardPolicy()) throws {
            fixture = try Fixture(guards: guards)
            runtime = SentinelRuntime(plane: fixture.plane, logger: .silent)
        }

        func run(_ command: String, _ arguments: [String: JSONValue], reason: String = "because") async -> CommandOutcome {
            await fixture.plane.execute(command, arguments, context: CommandContext(identity: .operator("alice"), reason: reason))
        }
    }

    /// Copies what changed on `leader` since `baseline` to `follower`; returns the new baseline.
    @discardableResult
    func replicate(
        from leader: Instance, to follower: Instance, since baseline: DesiredState, memory: Bool = false
    ) async -> (
        DesiredState, [String]
    ) {
        let now = await leader.runtime.desiredState(memory: memory)
        let problems = await follower.runtime.applyReplicated(now.changes(from: baseline), memory: memory)
        return (now, problems)
    }

    @Test func knobsTheFreezeAndTheirLastChangeReachAnotherInstance() async throws {
        let leader = try Instance()
        let follower = try Instance()
        let baseline = await leader.runtime.desiredState(memory: false)
        #expect(
            await leader.run("param.set", ["param": "checkout.retry.max_attempts", "value": 2], reason: "incident 7").outcome == .applied)
        #expect(await leader.run("shadow.set", ["param": "checkout.timeout.duration", "value": 0.3]).outcome == .applied)
        #expect(await leader.run("automation.freeze", [:], reason: "release day").outcome == .applied)
        let (next, problems) = await replicate(from: leader, to: follower, since: baseline)
        #expect(problems.isEmpty)
        #expect(try follower.fixture.value("checkout.retry.max_attempts") == 2)
        #expect(try follower.fixture.registry.parameter("checkout.timeout.duration").shadow == 0.3)
        #expect(follower.fixture.plane.lastChange(of: "checkout.retry.max_attempts")?.reason == "incident 7")
        #expect(follower.fixture.plane.lastChange(of: "checkout.retry.max_attempts")?.actor == "operator:alice")
        #expect(follower.fixture.plane.frozen?.by == "operator:alice" && follower.fixture.plane.frozen?.reason == "release day")

        // Lifting the freeze removes its key; the follower lifts it too.
        #expect(await leader.run("automation.unfreeze", [:]).outcome == .applied)
        #expect(await leader.run("shadow.clear", ["param": "checkout.timeout.duration"]).outcome == .applied)
        let changes = await leader.runtime.desiredState(memory: false).changes(from: next)
        #expect(changes.keys.sorted() == ["freeze", "param/checkout.timeout.duration"])
        await follower.runtime.applyReplicated(changes, memory: false)
        #expect(follower.fixture.plane.frozen == nil)
        #expect(try follower.fixture.registry.parameter("checkout.timeout.duration").shadow == nil)
    }

    @Test func guardsAreNotRunAgainOnTheFollower() async throws {
        // The leader passed its guards once; a follower with a stricter step guard still applies the value.
        let strict = GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.split.*", maxStepUp: 1)])
        let leader = try Instance()
        let follower = try Instance(guards: strict)
        let baseline = await leader.runtime.desiredState(memory: false)
        #expect(await leader.run("param.set", ["param": "checkout.split.canary_weight", "value": 25]).outcome == .applied)
        let (_, problems) = await replicate(from: leader, to: follower, since: baseline)
        #expect(problems.isEmpty)
        #expect(try follower.fixture.value("checkout.split.canary_weight") == 25)
    }

    @Test func boundsStillHoldAndAnUnknownKnobIsReportedNotDropped() async throws {
        let follower = try Instance()
        let problems = await follower.runtime.applyReplicated(
            [
                "param/checkout.retry.max_attempts": ["value": 1e9, "shadow": .null],
                "param/payments.retry.max_attempts": ["value": 2, "shadow": .null],
                "param/checkout.bulkhead.max_concurrent": ["value": 4, "shadow": .null],
                "tomorrow": true,
            ], memory: false)
        #expect(problems.count == 3)
        #expect(problems.contains { $0.hasPrefix("checkout.retry.max_attempts: replicated value") })
        #expect(problems.contains { $0.hasPrefix("payments.retry.max_attempts:") })
        #expect(problems.contains { $0.hasPrefix("tomorrow:") })
        #expect(try follower.fixture.value("checkout.retry.max_attempts") == 3)
        #expect(try follower.fixture.value("checkout.bulkhead.max_concurrent") == 4)
    }

    @Test func trialsAndGatesAreReplacedNotMerged() async throws {
        let leader = try Instance()
        let follower = try Instance()
        let baseline = await leader.runtime.desiredState(memory: false)
        let start: [String: JSONValue] = [
            "name": "tighter", "params": ["checkout.timeout.duration": "300ms"], "window": "1m", "interval": "10s",
            "min_samples": 20, "watch": 0,
        ]
        #expect(await leader.run("trial.start", start).outcome == .applied)
        let (afterStart, _) = await replicate(from: leader, to: follower, since: baseline)
        #expect(follower.runtime.trials.trial(named: "tighter")?.status == .running)
        #expect(try follower.fixture.registry.parameter("checkout.timeout.duration").shadow == 0.3)
        #expect(await leader.run("trial.abort", ["name": "tighter"]).outcome == .applied)
        await replicate(from: leader, to: follower, since: afterStart)
        #expect(follower.runtime.trials.trial(named: "tighter")?.status == leader.runtime.trials.trial(named: "tighter")?.status)
        #expect(try follower.fixture.registry.parameter("checkout.timeout.duration").shadow == nil)
        // A trial the leader no longer has is gone from the follower.
        await follower.runtime.applyReplicated(["trials": .array([])], memory: false)
        #expect(follower.runtime.trials.trials.isEmpty)
    }

    @Test func pausedScriptsAndMemoryFollowTheirKeys() async throws {
        let leader = try Instance()
        let follower = try Instance()
        let source = """
            return { name = "counter", interval = "10s", evaluate = function(state, memory)
              memory.count = (memory.count or 0) + 1
              memory.since = memory.since or sentinel.time()
            end }
            """
        _ = try await leader.runtime.engine.load(path: "counter.lua", source: source).get()
        _ = try await follower.runtime.engine.load(path: "counter.lua", source: source).get()
        for _ in 1...2 {
            leader.fixture.advance(.seconds(10))
            _ = await leader.runtime.engine.tick()
        }
        #expect(await leader.run("script.pause", ["name": "counter"]).outcome == .applied)
        let state = await leader.runtime.desiredState(memory: true)
        #expect(state.values["paused/counter"] == true)
        #expect(state.values["memory/counter"]?["count"] == 2)
        #expect(state.values["memory/counter"]?["since"].doubleValue == leader.fixture.plane.epoch + 10)

        // Without `memory`, memory keys are skipped: followers' scripts do not run.
        await follower.runtime.applyReplicated(state.values.mapValues { $0 }, memory: false)
        #expect(await follower.runtime.engine.pausedScripts == ["counter"])
        #expect(await follower.runtime.engine.memories().values["counter"] == .object([:]))
        // An instance about to lead takes it.
        await follower.runtime.applyReplicated(["memory/counter": state.values["memory/counter"]], memory: true)
        #expect(await follower.runtime.engine.memories().values["counter"]?["count"] == 2)
        await follower.runtime.applyReplicated(["paused/counter": .some(nil)], memory: false)
        #expect(await follower.runtime.engine.pausedScripts.isEmpty)
        // Memory for a script not loaded here is reported.
        let problems = await follower.runtime.applyReplicated(["memory/elsewhere": ["x": 1]], memory: true)
        #expect(problems == ["elsewhere: no such script is loaded here; its memory is not restored"])
    }

    @Test func scriptsSeeStateFleetAndTheFleetWideTime() async throws {
        let instance = try Instance()
        let source = """
            return { name = "look", interval = "10s", evaluate = function(state, memory)
              memory.instances = state.fleet.instances
              memory.leader = state.fleet.leader
              memory.term = state.fleet.term
              memory.time = sentinel.time()
            end }
            """
        _ = try await instance.runtime.engine.load(path: "look.lua", source: source).get()
        instance.fixture.advance(.seconds(30))
        _ = await instance.runtime.engine.tick()
        var memory = await instance.runtime.engine.memories().values["look"]
        #expect(memory?["instances"] == 1 && memory?["leader"] == "local" && memory?["term"] == 0)
        #expect(memory?["time"].doubleValue == instance.fixture.plane.epoch + 30)
        await instance.runtime.engine.setFleetProvider { ["instances": 3, "leader": "checkout-2", "term": 7] }
        instance.fixture.advance(.seconds(10))
        _ = await instance.runtime.engine.tick()
        memory = await instance.runtime.engine.memories().values["look"]
        #expect(memory?["instances"] == 3 && memory?["leader"] == "checkout-2" && memory?["term"] == 7)
    }

    @Test func changesListWhatDiffersAndRemovals() {
        let before = DesiredState(["a": 1, "b": 2, "c": 3])
        let after = DesiredState(["a": 1, "b": 5, "d": 4])
        let changes = after.changes(from: before)
        #expect(changes.count == 3)
        #expect(changes["b"] == .some(.some(5)) && changes["d"] == .some(.some(4)) && changes["c"] == .some(nil))
        #expect(before.applying(changes) == after)
    }
}
