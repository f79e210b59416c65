import Resilience
import Testing

@testable import Sentinel

/// Guards limit ramps, not rollbacks, and name themselves when they refuse.
@Suite struct GuardTests {
    static let rampGuard = GuardPolicy(parameters: [
        ParameterGuard(pattern: "checkout.split.*", maxStepUp: 25, minInterval: .seconds(30))
    ])

    @Test func rampIsLimitedButRollbackIsNot() async throws {
        let fixture = try Fixture(guards: Self.rampGuard)
        #expect(await fixture.set("checkout.split.canary_weight", 25).outcome == .applied)
        fixture.advance(.seconds(31))
        let jump = await fixture.set("checkout.split.canary_weight", 75)
        #expect(jump.outcome == .rejected)
        #expect(
            jump.error?.message
                == "guard checkout.split.*: checkout.split.canary_weight 25 → 75 is a step up of 50, more than max_step_up 25")
        #expect(try fixture.value("checkout.split.canary_weight") == 25)
        // Rolling back to 0 at once passes: no max_step_down is configured.
        fixture.advance(.seconds(31))
        #expect(await fixture.set("checkout.split.canary_weight", 0).outcome == .applied)
    }

    @Test func minimumIntervalStopsFlapping() async throws {
        let fixture = try Fixture(guards: Self.rampGuard)
        #expect(await fixture.set("checkout.split.canary_weight", 10).outcome == .applied)
        fixture.advance(.seconds(5))
        let early = await fixture.set("checkout.split.canary_weight", 20)
        #expect(early.outcome == .rejected)
        #expect(early.error?.message == "guard checkout.split.*: checkout.split.canary_weight changed 5s ago, min_interval is 30s")
        fixture.advance(.seconds(26))
        #expect(await fixture.set("checkout.split.canary_weight", 20).outcome == .applied)
    }

    @Test func boundsAndStepDown() async throws {
        let guards = GuardPolicy(parameters: [
            ParameterGuard(pattern: "*.retry.max_attempts", minimum: 1, maximum: 4, maxStepDown: 1)
        ])
        let fixture = try Fixture(guards: guards)
        #expect(await fixture.set("checkout.retry.max_attempts", 5).error?.message.contains("above the maximum 4") == true)
        #expect(
            await fixture.set("checkout.retry.max_attempts", 1).error?.message.contains("step down of 2, more than max_step_down 1") == true
        )
        #expect(await fixture.set("checkout.retry.max_attempts", 2).outcome == .applied)
        // Other knobs are not guarded.
        #expect(await fixture.set("checkout.bulkhead.max_concurrent", 1).outcome == .applied)
    }

    @Test func failedApplyDoesNotConsumeTheInterval() async throws {
        let fixture = try Fixture(guards: Self.rampGuard)
        #expect(await fixture.set("checkout.split.canary_weight", 10).outcome == .applied)
        fixture.advance(.seconds(40))
        #expect(await fixture.set("checkout.split.canary_weight", 20).outcome == .applied)
    }

    @Test func concurrentChangesCannotBothPassTheIntervalGuard() async throws {
        let guards = GuardPolicy(parameters: [ParameterGuard(pattern: "checkout.retry.*", minInterval: .seconds(30))])
        let fixture = try Fixture(guards: guards)
        let outcomes = await withTaskGroup(of: AuditOutcome.self) { group in
            for value in 1...40 {
                group.addTask { await fixture.set("checkout.retry.max_attempts", .int(Int64(value % 5 + 1))).outcome }
            }
            return await group.reduce(into: [AuditOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .applied }.count == 1)
        #expect(outcomes.filter { $0 == .rejected }.count == 39)
    }
}
