import Sentinel
import Simulation
import Testing

/// The canary and blue/green recipes with their `REQUIRE_APPROVAL` option on
/// (the scenarios' `constants`): they wait for a person before the last step
/// or the switch, hold while waiting, act on the answer, and say who answered.
@Suite struct RecipeApprovalTests {
    static let canaryWeight = JSONValue.string("checkout.split.canary_weight")
    static let greenWeight = JSONValue.string("shop.split.green_weight")

    /// A shipped scenario, changed by `edit` (and `extra` YAML appended) before it runs.
    static func run(_ file: String, extra: String = "", edit: (inout Scenario) -> Void = { _ in }) async throws -> Run {
        let path = "examples/recipes/\(file)"
        guard case .success(let contents) = ScriptFile.read(path: path) else { throw ScratchFolderError(errno: 2) }
        var scenario = try Scenario(yaml: String(decoding: contents.contents, as: UTF8.self) + extra, file: path)
        edit(&scenario)
        let folder = String(path[..<path.lastIndex(of: "/")!])
        return try await simulate(scenario, policies: folder + "/" + scenario.policies)
    }

    /// The changes of `knob`, as (position in the output, t, to, reason).
    static func moves(_ run: Run, _ knob: JSONValue) -> [(index: Int, t: Double, to: Double, reason: String)] {
        run.events.indices.filter { run.events[$0].type == "command" && run.events[$0]["target"] == knob && run.events[$0]["to"] != nil }
            .map { (index) in
                let event = run.events[index]
                return (index, event.t, event["to"]?.double ?? -1, event["reason"]?.plainTextForTests ?? "")
            }
    }

    static func audit(_ run: Run, _ action: String) -> [SimulationEvent] {
        run.events("command").filter { $0["action"] == .string(action) }
    }

    /// Where the audit entry of the operator's answer is in the output.
    static func answer(_ run: Run, _ action: String) -> Int? {
        run.events.firstIndex { $0.type == "command" && $0["action"] == .string(action) }
    }

    @Test func theCanaryWaitsAt50UntilTheGrantThenTakesTheLastStep() async throws {
        let run = try await RecipeTests.run("canary/approval.yaml")
        let moves = Self.moves(run, Self.canaryWeight)
        #expect(moves.map(\.to) == [2, 5, 10, 25, 50, 100])
        let request = try #require(Self.audit(run, "approval.request").first)
        let grant = try #require(Self.audit(run, "approval.grant").first)
        #expect(grant.t == 900 && grant["outcome"] == .string("applied"))
        // Asked once the canary was shown as good at 50 (after its bake of 5 minutes), well before the grant.
        #expect(request.t >= moves[4].t + 300 && request.t < 900, "asked at \(request.t)")
        #expect(request["reason"]?.plainTextForTests.contains("canary at 50% is as good as stable") == true)
        // Nothing moved between the request and the grant; the step came at the next evaluation after it.
        // (The answer comes first at an instant where both fall: the next evaluation may be at 15:00 itself.)
        #expect(moves[4].t < request.t && moves[5].t >= 900 && moves[5].t <= 910, "stepped to 100 at \(moves[5].t)")
        #expect(try moves[5].index > #require(Self.answer(run, "approval.grant")), "the last step came after the grant")
        #expect(
            moves[5].reason.contains("approval checkout-canary approved by operator:scenario (release manager: the dashboards look good)"))
        // Alerted once while waiting, not every 10 s; closed once acted on, so no gate is left open.
        #expect(run.events("alert").filter { $0["message"]?.plainTextForTests.contains("waiting for approval") == true }.count == 1)
        #expect(Self.audit(run, "approval.reset").map(\.t) == [moves[5].t])
        #expect(run.report.pendingApprovals.isEmpty)
        #expect(run.events.last?["pending_approvals"] == [])
    }

    @Test func aDeniedCanaryIsRolledBackWithTheDenialAsTheReason() async throws {
        let run = try await RecipeTests.run("canary/approval-denied.yaml")
        let moves = Self.moves(run, Self.canaryWeight)
        #expect(moves.map(\.to) == [2, 5, 10, 25, 50, 0])
        let back = try #require(moves.last)
        #expect(back.t >= 900 && back.t <= 910)
        #expect(try back.index > #require(Self.answer(run, "approval.deny")))
        #expect(back.reason.contains("approval checkout-canary denied by operator:scenario (not during the sale); rolled back"))
        let stable = try #require(run.events("command").last { $0["target"] == .string("checkout.split.stable_weight") })
        #expect(stable["to"] == .double(100))
        #expect(
            run.events("alert").contains {
                $0["severity"] == .string("warning") && $0["message"]?.plainTextForTests.contains("denied") == true
            })
    }

    @Test func blueGreenKeepsItsSmokeShareUntilTheGrantThenSwitches() async throws {
        let run = try await RecipeTests.run("blue-green/approval.yaml")
        let moves = Self.moves(run, Self.greenWeight)
        #expect(moves.map(\.to) == [2, 100])
        let request = try #require(Self.audit(run, "approval.request").first)
        // Without the gate green switches at 3:05 (switch.yaml); here it is asked then, and switches after the grant at 10m.
        #expect(request.t == 185, "asked at \(request.t)")
        #expect(moves[1].t >= 600 && moves[1].t <= 605, "switched at \(moves[1].t)")
        #expect(try moves[1].index > #require(Self.answer(run, "approval.grant")), "the switch came after the grant")
        #expect(moves[1].reason.contains("approval shop-switch approved by operator:scenario (change window open): switch"))
        #expect(run.events("alert").filter { $0["message"]?.plainTextForTests.contains("waiting for approval") == true }.count == 1)
    }

    @Test func aDeniedSwitchLeavesBlueWithAllTraffic() async throws {
        let run = try await Self.run("blue-green/approval.yaml") { scenario in
            scenario.expectations = []
            guard case .command(_, let arguments, _) = scenario.events[0].change else { return }
            scenario.events[0].change = .command(name: "approval.deny", arguments: arguments, reason: "freeze week")
        }
        let moves = Self.moves(run, Self.greenWeight)
        #expect(moves.map(\.to) == [2, 0])
        #expect(moves[1].t >= 600 && moves[1].t <= 605)
        #expect(try moves[1].index > #require(Self.answer(run, "approval.deny")))
        #expect(moves[1].reason.contains("approval shop-switch denied by operator:scenario (freeze week): blue keeps all traffic"))
        #expect(run.report.knobs["shop.split.blue_weight"] == 100)
    }

    /// Nobody answers: the canary holds at 50 to the end, and the summary
    /// (JSON and timeline) names the gate, when it was asked and why.
    @Test func anUnansweredGateHoldsTheCanaryAndIsInTheSummary() async throws {
        let run = try await Self.run("canary/approval.yaml") { scenario in
            scenario.events = []
            scenario.expectations = []
        }
        #expect(Self.moves(run, Self.canaryWeight).map(\.to) == [2, 5, 10, 25, 50])
        let request = try #require(Self.audit(run, "approval.request").first)
        let gate = try #require(run.report.pendingApprovals.first)
        #expect(run.report.pendingApprovals.count == 1)
        #expect(gate.name == "checkout-canary" && gate.requestedBy == "script:canary" && gate.status == .pending)
        let summary = try #require(run.events.last)
        guard case .array(let pending)? = summary["pending_approvals"], case .object(let item)? = pending.first else {
            Issue.record("no pending_approvals in \(summary.json)")
            return
        }
        #expect(item["gate"] == .string("checkout-canary") && item["requested_by"] == .string("script:canary"))
        #expect(item["t"] == .double(request.t))
        #expect(item["message"] == request["reason"])
        #expect(item["time"]?.plainTextForTests.hasPrefix("\"2026-01-01T00:") == true)

        var renderer = TimelineRenderer()
        let text = renderer.lines(
            for: summary,
            scenario: try Scenario(yaml: "duration: 1m\npipelines: { a: { backend: { latency: 1ms }, traffic: { rate: 1 } } }"))
        let line = try #require(text.firstIndex(of: "Waiting for approval"))
        let asked = "  ? checkout-canary  asked at \(formatted(request.t)) by canary: canary at 50% is as good as stable"
        #expect(text[line + 1].hasPrefix(asked))
    }

    /// Once roles are configured, an operator without the grant is denied:
    /// audited `denied`, the gate stays pending, the canary stays at 50.
    @Test func anOperatorWithoutTheGrantCannotAnswerAGate() async throws {
        let control = """

            control:
              assignments:
                "script:canary": [releaser]
                "operator:scenario": [viewer]
              roles:
                releaser:
                  - commands: [param.set]
                    targets: ["checkout.split.*"]
                viewer:
                  - commands: [param.get, state.get]
            """
        let run = try await Self.run("canary/approval.yaml", extra: control) { $0.expectations = [] }
        let grant = try #require(Self.audit(run, "approval.grant").first)
        #expect(grant["outcome"] == .string("denied") && grant["actor"] == .string("operator:scenario"))
        #expect(run.report.knobs["checkout.split.canary_weight"] == 50)
        #expect(run.report.pendingApprovals.map(\.name) == ["checkout-canary"])
    }

    /// The option off (its default) is the recipe as it was: the gate-on
    /// scenario with the constant set back to false gives healthy.yaml's
    /// changes, at the same instants, for the same reasons.
    @Test func withTheGateOffTheCanaryRampsAsBefore() async throws {
        let off = try await Self.run("canary/approval.yaml") { scenario in
            scenario.constants[0].value = false
            scenario.events = []
            scenario.expectations = []
        }
        let healthy = try await RecipeTests.run("canary/healthy.yaml")
        #expect(off.events("command").map(\.json) == healthy.events("command").map(\.json))
        #expect(off.events("alert").map(\.json) == healthy.events("alert").map(\.json))
        #expect(Self.audit(off, "approval.request").isEmpty)
    }

    func formatted(_ t: Double) -> String {
        let seconds = Int(t)
        return "\(seconds / 60):" + (seconds % 60 < 10 ? "0" : "") + "\(seconds % 60)"
    }
}
