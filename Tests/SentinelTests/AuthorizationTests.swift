import Resilience
import Testing

@testable import Sentinel

/// Who may do what: defaults, roles and grants, the freeze.
@Suite struct AuthorizationTests {
    @Test func scriptsMayNotFreezeOrResumeByDefault() async throws {
        let fixture = try Fixture()
        let script = CommandContext(identity: .script("rogue"))
        let freeze = await fixture.plane.execute("automation.freeze", [:], context: script)
        #expect(freeze.outcome == .denied)
        #expect(freeze.error?.message == "automation.freeze needs an operator; script:rogue is a script")
        let setting = await fixture.set("checkout.retry.max_attempts", 2)
        #expect(setting.outcome == .applied)
    }

    @Test func freezeDeniesScriptsButNotOperators() async throws {
        let fixture = try Fixture()
        let freeze = await fixture.plane.execute(
            "automation.freeze", ["reason": "incident 7"], context: CommandContext(identity: .operator("alice")))
        #expect(freeze.outcome == .applied)
        let denied = await fixture.set("checkout.retry.max_attempts", 2)
        #expect(denied.outcome == .denied)
        #expect(denied.error?.message == "automation is frozen by operator:alice: incident 7")
        let query = await fixture.plane.execute(
            "param.get", ["param": "checkout.retry.max_attempts"], context: CommandContext(identity: .script("rule")))
        #expect(query.outcome == .applied)
        #expect(await fixture.set("checkout.retry.max_attempts", 2, as: .operator("alice")).outcome == .applied)
        _ = await fixture.plane.execute("automation.unfreeze", [:], context: CommandContext(identity: .operator("alice")))
        #expect(await fixture.set("checkout.retry.max_attempts", 1).outcome == .applied)
    }

    @Test func rolesGrantCommandsOnPatterns() async throws {
        var access = AccessPolicy()
        access.roles["canary"] = Role(grants: [Grant(commands: ["param.set"], targets: ["checkout.split.*"])])
        access.roles["admin"] = Role(grants: [Grant(commands: ["*"])])
        access.assignments["script:canary"] = ["canary"]
        access.assignments["operator:*"] = ["admin"]
        let fixture = try Fixture(access: access)
        #expect(await fixture.set("checkout.split.canary_weight", 5, as: .script("canary")).outcome == .applied)
        let outside = await fixture.set("checkout.retry.max_attempts", 1, as: .script("canary"))
        #expect(outside.outcome == .denied)
        #expect(outside.error?.message == "no role of script:canary (canary) grants param.set on checkout.retry.max_attempts")
        let stranger = await fixture.set("checkout.split.canary_weight", 5, as: .script("other"))
        #expect(stranger.outcome == .denied)
        #expect(stranger.error?.message == "script:other has no role that grants param.set")
        #expect(await fixture.set("checkout.retry.max_attempts", 1, as: .operator("bob")).outcome == .applied)
        #expect(await fixture.set("checkout.retry.max_attempts", 2, as: .sentinel).outcome == .applied)
        #expect(fixture.plane.audit.recent(10).filter { $0.outcome == .denied }.count == 2)
    }

    @Test(arguments: [
        ("checkout.split.*", "checkout.split.canary_weight", true),
        ("checkout.split.*", "checkout.splitter.x", false),
        ("*.retry.max_attempts", "payments.retry.max_attempts", true),
        ("*", "anything.at.all", true),
        ("param.*", "param.set", true),
        ("param.*", "shadow.set", false),
        ("checkout.*.duration", "checkout.timeout.duration", true),
        ("exact.name.here", "exact.name.here", true),
        ("exact.name.here", "exact.name.her", false),
        ("a*a", "a", false),
    ])
    func namePatterns(pattern: String, name: String, matches: Bool) {
        #expect(NamePattern(pattern).matches(name) == matches)
    }
}
