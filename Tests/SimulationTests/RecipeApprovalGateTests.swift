import Resilience
import Sentinel
import Testing

@testable import Simulation

/// The recipes' approval gates outlive the release that opened them (a
/// restart keeps gates but not the scripts' memory, a reload can turn the
/// option off): a release never goes on an old answer, every rollback
/// withdraws the question, and a denial alerts the same in both recipes.
@Suite struct RecipeApprovalGateTests {
    typealias Recipes = RecipeApprovalTests

    /// A shipped scenario with its YAML edited (`replacing` pairs; from
    /// `cutFrom` on dropped, then `append` added), run by a sentinel that
    /// restarted with `saved` gates in its state file.
    static func run(
        _ file: String, replacing edits: [(String, String)] = [], cutFrom: String? = nil, append: String = "",
        saved: [ApprovalGate] = []
    ) async throws -> Run {
        let path = "examples/recipes/\(file)"
        guard case .success(let contents) = ScriptFile.read(path: path) else { throw ScratchFolderError(errno: 2) }
        var yaml = String(decoding: contents.contents, as: UTF8.self)
        for (old, new) in edits {
            #expect(yaml.contains(old), "\(file) has no \(old)")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        if let cutFrom, let range = yaml.range(of: "\n" + cutFrom) { yaml = String(yaml[...range.lowerBound]) }
        yaml += append
        let scenario = try Scenario(yaml: yaml, file: path)
        let folder = String(path[..<path.lastIndex(of: "/")!])
        let simulation = try Simulation(scenario: scenario, policies: folder + "/" + scenario.policies, logger: .silent)
        #expect(simulation.runtime.approvals.restore(.array(saved.map(\.jsonValue))).isEmpty)
        var events: [SimulationEvent] = []
        let report = try await simulation.run { events.append($0) }
        return Run(events: events, report: report)
    }

    /// A gate as an earlier release left it, asked (and answered) the day before.
    static func leftOver(_ name: String, _ status: ApprovalGate.Status, by script: String) -> ApprovalGate {
        let asked = 1_767_225_600.0 - 86_400
        let answered = status != .pending
        return ApprovalGate(
            name: name, status: status, requestedBy: script, requestedAt: asked, message: "an earlier release",
            answeredBy: answered ? "operator:yesterday" : nil, answeredAt: answered ? asked + 60 : nil,
            reason: answered ? "yesterday's release" : nil)
    }

    // MARK: - An old answer never skips the person

    /// An approval left from an earlier release (restored after a restart):
    /// the release closes it when it starts, asks again at 50 % and waits for
    /// the grant at 15m.
    @Test func anApprovalLeftFromAnEarlierReleaseDoesNotSkipTheCanarysGate() async throws {
        let run = try await Self.run(
            "canary/approval.yaml", saved: [Self.leftOver("checkout-canary", .approved, by: "script:canary")])
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.map(\.to) == [2, 5, 10, 25, 50, 100])
        let resets = Recipes.audit(run, "approval.reset")
        // Closed when the release started (its first evaluation, before it counted the traffic) and once acted on.
        #expect(resets.count == 2 && resets[0].t < moves[0].t && resets[1].t == moves[5].t, "closed at \(resets.map(\.t))")
        let request = try #require(Recipes.audit(run, "approval.request").first)
        #expect(request.t >= moves[4].t + 300 && request.t < 900, "asked again at \(request.t)")
        #expect(moves[5].t >= 900 && moves[5].t <= 910, "stepped to 100 at \(moves[5].t), not on yesterday's answer")
        #expect(moves[5].reason.contains("approved by operator:scenario (release manager"))
        #expect(run.report.pendingApprovals.isEmpty)
    }

    @Test func anApprovalLeftFromAnEarlierReleaseDoesNotSkipTheSwitch() async throws {
        let run = try await Self.run(
            "blue-green/approval.yaml", saved: [Self.leftOver("shop-switch", .approved, by: "script:blue-green")])
        #expect(run.report.passed)
        let moves = Recipes.moves(run, Recipes.greenWeight)
        #expect(moves.map(\.to) == [2, 100])
        #expect(Recipes.audit(run, "approval.reset").first?.t == moves[0].t)
        #expect(try #require(Recipes.audit(run, "approval.request").first).t == 185)
        #expect(moves[1].t >= 600 && moves[1].t <= 605, "switched at \(moves[1].t), not on yesterday's answer")
        #expect(moves[1].reason.contains("approved by operator:scenario (change window open)"))
    }

    // MARK: - Every rollback withdraws the question

    /// Waiting at 50 %, the canary regresses at 14m: it rolls back, the
    /// question is withdrawn (one `approval.reset`) and nothing is left waiting.
    @Test func aRegressionWhileWaitingRollsBackAndClosesTheGate() async throws {
        let regression = """
            events:
              - at: 14m
                backend: checkout.canary
                set: { error_rate: 0.2 }

            """
        let run = try await Self.run("canary/approval.yaml", cutFrom: "events:", append: regression)
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.map(\.to) == [2, 5, 10, 25, 50, 0])
        let request = try #require(Recipes.audit(run, "approval.request").first)
        #expect(request.t < 840 && moves[5].t > 840 && moves[5].t < 900)
        #expect(moves[5].reason.contains("worse than stable at 50%"))
        #expect(Recipes.audit(run, "approval.reset").map(\.t) == [moves[5].t])
        #expect(run.report.pendingApprovals.isEmpty)
        #expect(run.events.last?["pending_approvals"] == [])
    }

    /// A question left pending by a process that restarted (its memory, and
    /// so `memory.waiting`, gone): the new release closes it when it starts,
    /// so a rollback before the canary asks again leaves nothing waiting.
    @Test func aGateLeftPendingByARestartIsClosedAndARollbackLeavesNothingWaiting() async throws {
        let run = try await Self.run(
            "canary/approval.yaml",
            replacing: [
                (
                    "canary: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.005 }",
                    "canary: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.05 }"
                )
            ],
            cutFrom: "events:",
            saved: [Self.leftOver("checkout-canary", .pending, by: "script:canary")])
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.last?.to == 0 && !moves.map(\.to).contains(50), "rolled back before 50 %: \(moves.map(\.to))")
        #expect(Recipes.audit(run, "approval.request").isEmpty)
        // Closed once, when the release started (its first evaluation, before the first step); the rollback finds it closed.
        let resets = Recipes.audit(run, "approval.reset")
        #expect(resets.count == 1 && resets[0].t < moves[0].t, "closed at \(resets.map(\.t))")
        #expect(run.report.pendingApprovals.isEmpty)
        #expect(run.events.last?["pending_approvals"] == [])
    }

    /// The same for blue/green: the smoke test fails with a question left
    /// pending from before the restart; nothing is left waiting.
    @Test func aFailedSmokeTestLeavesNoGateWaiting() async throws {
        let run = try await Self.run(
            "blue-green/approval.yaml",
            replacing: [
                (
                    "green: { latency: { distribution: lognormal, p50: 45ms, p99: 230ms }, error_rate: 0.003 }",
                    "green: { latency: { distribution: lognormal, p50: 45ms, p99: 230ms }, error_rate: 0.1 }"
                )
            ],
            cutFrom: "events:",
            saved: [Self.leftOver("shop-switch", .pending, by: "script:blue-green")])
        #expect(Recipes.moves(run, Recipes.greenWeight).map(\.to) == [2, 0])
        #expect(Recipes.audit(run, "approval.reset").count == 1)
        #expect(run.report.pendingApprovals.isEmpty)
    }

    // MARK: - A denial alerts the same in both recipes

    @Test func aDeniedSwitchRaisesAWarningLikeADeniedCanary() async throws {
        let run = try await Self.run(
            "blue-green/approval.yaml",
            replacing: [("command: approval.grant", "command: approval.deny")], cutFrom: "expect:")
        let moves = Recipes.moves(run, Recipes.greenWeight)
        #expect(moves.map(\.to) == [2, 0])
        let alert = try #require(run.events("alert").last)
        #expect(alert["severity"] == .string("warning"))
        #expect(
            alert["message"]?.plainTextForTests.contains("approval shop-switch denied by operator:scenario (change window open)") == true)
        #expect(alert.t == moves[1].t)
        #expect(alert["fields"]?["approval"]["gate"] == .string("shop-switch"))
    }

    // MARK: - The option turned off by a reload while waiting

    /// A version that asked (the gate open, `memory.waiting` set) is replaced
    /// by the shipped recipe, whose option is off: memory carries over the
    /// reload, and the new version's first evaluation withdraws the question.
    @Test(arguments: [
        ("canary/canary.lua", "canary", "10s", "checkout-canary"),
        ("blue-green/blue_green.lua", "blue-green", "5s", "shop-switch"),
    ])
    func aReloadThatTurnsTheOptionOffClosesTheGate(file: String, name: String, interval: String, gate: String) async throws {
        let clock = ManualClock()
        let plane = ControlPlane(registry: ParameterRegistry(), time: ClockTimeSource(clock), epoch: 1_800_000_000)
        let runtime = SentinelRuntime(plane: plane, logger: .silent)
        let path = "/policies/" + String(file.split(separator: "/").last!)
        let asking = """
            return {
              name = "\(name)", interval = "\(interval)",
              evaluate = function(state, memory)
                memory.waiting = true
                sentinel.approval("\(gate)", { message = "asked before the reload" })
              end,
            }
            """
        guard case .success = await runtime.engine.load(path: path, source: asking) else {
            Issue.record("the asking version did not load")
            return
        }
        var ticks = EngineTicks(runtime, clock: clock, step: 10_000_000_000)
        func tick() async { await ticks.next() }
        await tick()
        #expect(runtime.approvals.gate(named: gate)?.status == .pending)

        guard case .success(let recipe) = ScriptFile.read(path: "examples/recipes/" + file),
            case .success = await runtime.engine.load(path: path, source: String(decoding: recipe.contents, as: UTF8.self))
        else {
            Issue.record("the recipe did not load")
            return
        }
        await tick()
        #expect(runtime.approvals.gate(named: gate) == nil, "the question is withdrawn")
        let resets = plane.audit.entries.filter { $0.action == "approval.reset" }
        #expect(resets.map(\.target) == [gate] && resets.first?.actor == "script:\(name)")
        await tick()
        #expect(plane.audit.entries.filter { $0.action == "approval.reset" }.count == 1, "withdrawn once")
    }
}
