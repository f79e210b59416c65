import Hummingbird
import HummingbirdTesting
import Resilience
import Sentinel
import Testing

@testable import SentinelAdmin

/// Approval gates end to end in process: a script opens a gate, an operator
/// answers it through the admin API, the script sees the answer; gates are
/// saved with the state; an operator without the grant is denied and audited.
@Suite struct ApprovalGateTests {
    /// Opens `release` and moves the canary to 50 once approved, back to 0 when denied.
    static let gatedRelease = """
        return {
          interval = "1s",
          evaluate = function(state, memory)
            local answer, gate = sentinel.approval("release", { message = "canary healthy, release?" })
            memory.seen = answer
            if answer == "approved" then
              sentinel.set("checkout.split.canary_weight", 50,
                "approved by " .. gate.answered_by .. ": " .. gate.reason .. " (asked by " .. gate.requested_by .. ")")
            elseif answer == "denied" then
              sentinel.set("checkout.split.canary_weight", 0, "release denied")
            end
          end,
        }
        """

    static func canaryWeight(_ fixture: AdminFixture) -> Double? {
        try? fixture.registry.value("checkout.split.canary_weight")
    }

    // A loaded script is first due one interval after it is loaded (the clock starts at 0).
    @Test func aGateWaitsForAnOperatorAndTheScriptSeesTheAnswer() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        _ = try await fixture.runtime.engine.load(path: "release.lua", source: Self.gatedRelease).get()
        _ = await fixture.runtime.round(at: 1_000_000_000)
        _ = await fixture.runtime.round(at: 2_000_000_000)

        let gate = try #require(fixture.runtime.approvals.gate(named: "release"))
        #expect(gate.status == .pending && gate.requestedBy == "script:release" && gate.message == "canary healthy, release?")
        #expect(fixture.plane.audit.entries.filter { $0.action == "approval.request" }.count == 1, "requested once, not every interval")
        #expect(Self.canaryWeight(fixture) == 0)

        try await fixture.test { client in
            let listed = try await client.get("/v1/approvals")
            #expect(listed.status == .ok)
            #expect(listed.json["release"]["status"] == "pending")
            #expect(listed.json["release"]["requested_by"] == "script:release")

            let granted = try await client.post(
                "/v1/commands", #"{"command": "approval.grant", "args": {"gate": "release"}, "reason": "looked at the graphs"}"#)
            #expect(granted.status == .ok, "\(String(buffer: granted.body))")

            let again = try await client.post(
                "/v1/commands", #"{"command": "approval.deny", "args": {"gate": "release"}, "reason": "changed my mind"}"#)
            #expect(again.status == .conflict, "an answered gate keeps its answer until the script resets it")
        }
        _ = await fixture.runtime.round(at: 3_000_000_000)
        #expect(Self.canaryWeight(fixture) == 50)
        let step = try #require(fixture.plane.audit.entries.last { $0.action == "param.set" })
        #expect(
            step.reason == "approved by operator:alice: looked at the graphs (asked by script:release)",
            "the script reads who answered and why")
        let answer = try #require(fixture.plane.audit.entries.last { $0.action == "approval.grant" })
        #expect(answer.actor == "operator:alice" && answer.outcome == .applied && answer.reason == "looked at the graphs")
    }

    @Test func aDeniedGateRollsTheCanaryBack() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        #expect(
            await fixture.plane.execute(
                "param.set", ["param": "checkout.split.canary_weight", "value": 5],
                context: CommandContext(identity: .operator("setup"), reason: "start the canary")
            ).outcome == .applied)
        _ = try await fixture.runtime.engine.load(path: "release.lua", source: Self.gatedRelease).get()
        _ = await fixture.runtime.round(at: 1_000_000_000)
        try await fixture.test { client in
            let denied = try await client.post(
                "/v1/commands", #"{"command": "approval.deny", "args": {"gate": "release"}, "reason": "error budget spent"}"#)
            #expect(denied.status == .ok, "\(String(buffer: denied.body))")
        }
        _ = await fixture.runtime.round(at: 2_000_000_000)
        #expect(fixture.runtime.approvals.gate(named: "release")?.status == .denied)
        #expect(Self.canaryWeight(fixture) == 0)
    }

    @Test(arguments: ["approval.grant", "approval.deny"])
    func anOperatorWithoutTheGrantIsDeniedAndAudited(_ command: String) async throws {
        var configuration = ControlPlaneConfiguration()
        configuration.access.roles["viewer"] = Role(grants: [Grant(commands: ["param.get"])])
        configuration.access.assignments["operator:viewer"] = ["viewer"]
        let fixture = try AdminFixture(configuration: configuration)
        defer { fixture.cleanUp() }
        fixture.runtime.approvals.open("release", message: nil, by: "script:release")
        try await fixture.test { client in
            let response = try await client.post(
                "/v1/commands", #"{"command": "\#(command)", "args": {"gate": "release"}, "reason": "x"}"#,
                token: AdminFixture.viewerToken)
            #expect(response.status == .forbidden && response.errorCode == "denied")
        }
        let entry = try #require(fixture.plane.audit.last)
        #expect(entry.action == command && entry.outcome == .denied && entry.actor == "operator:viewer" && entry.target == "release")
        #expect(fixture.runtime.approvals.gate(named: "release")?.status == .pending)
    }

    @Test func answeringAGateThatIsNotOpenNamesTheOpenOnes() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        fixture.runtime.approvals.open("release", message: nil, by: "script:release")
        try await fixture.test { client in
            let response = try await client.post(
                "/v1/commands", #"{"command": "approval.grant", "args": {"gate": "relase"}, "reason": "typo"}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["error"]["message"].stringValue?.contains("(open: release)") == true)
        }
    }

    @Test func pendingAndAnsweredGatesSurviveARestart() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        let gates = fixture.runtime.approvals
        gates.open("release", message: "ship it?", by: "script:canary")
        gates.open("switch", message: nil, by: "script:bluegreen")
        #expect(
            await fixture.plane.execute(
                "approval.grant", ["gate": "switch"], context: CommandContext(identity: .operator("bob"), reason: "go")
            ).outcome == .applied)
        let saved = gates.persisted()

        let restarted = try AdminFixture()
        defer { restarted.cleanUp() }
        let problems = restarted.runtime.approvals.restore(saved)
        #expect(problems.isEmpty)
        #expect(restarted.runtime.approvals.gate(named: "release")?.status == .pending)
        #expect(restarted.runtime.approvals.gate(named: "release")?.message == "ship it?")
        let answered = try #require(restarted.runtime.approvals.gate(named: "switch"))
        #expect(answered.status == .approved && answered.answeredBy == "operator:bob")
    }

    @Test func theScriptResetsAGateToAskAgain() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        let script = """
            return {
              interval = "1s",
              evaluate = function(state, memory)
                if sentinel.approval("step") == "approved" then sentinel.approval_reset("step") end
              end,
            }
            """
        _ = try await fixture.runtime.engine.load(path: "steps.lua", source: script).get()
        _ = await fixture.runtime.round(at: 1_000_000_000)
        #expect(
            await fixture.plane.execute(
                "approval.grant", ["gate": "step"], context: CommandContext(identity: .operator("bob"), reason: "ok")
            ).outcome == .applied)
        _ = await fixture.runtime.round(at: 2_000_000_000)
        #expect(fixture.runtime.approvals.gate(named: "step") == nil)
        #expect(fixture.plane.audit.entries.contains { $0.action == "approval.reset" && $0.actor == "script:steps" })
        _ = await fixture.runtime.round(at: 3_000_000_000)
        #expect(fixture.runtime.approvals.gate(named: "step")?.status == .pending)
        #expect(fixture.plane.audit.entries.filter { $0.action == "approval.request" }.count == 2)
    }
}
