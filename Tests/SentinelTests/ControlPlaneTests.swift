import Resilience
import Testing

@testable import Sentinel

/// Commands are validated, authorized, guarded, applied and audited one by one.
@Suite struct ControlPlaneTests {
    @Test func setAppliesAndIsAudited() async throws {
        let fixture = try Fixture()
        let outcome = await fixture.set("checkout.retry.max_attempts", 2)
        #expect(outcome.outcome == .applied)
        #expect(try fixture.value("checkout.retry.max_attempts") == 2)
        let entry = try #require(fixture.plane.audit.recent(1).first)
        #expect(entry.actor == "script:rule")
        #expect(entry.action == "param.set")
        #expect(entry.target == "checkout.retry.max_attempts")
        #expect(entry.outcome == .applied)
        #expect(entry.reason == "because")
        #expect(entry.args == ["param": "checkout.retry.max_attempts", "value": 2])
    }

    @Test func durationStringsAreAcceptedForDurations() async throws {
        let fixture = try Fixture()
        #expect(await fixture.set("checkout.timeout.duration", "250ms").outcome == .applied)
        #expect(try fixture.value("checkout.timeout.duration") == 0.25)
        let wrong = await fixture.set("checkout.retry.max_attempts", "5s")
        #expect(wrong.outcome == .rejected)
        #expect(wrong.error?.message.contains("not a duration") == true)
    }

    @Test(arguments: [
        ("nope.retry.max_attempts", JSONValue.int(1), "nope.retry.max_attempts: no such knob"),
        ("checkout", JSONValue.int(1), "is not a knob name"),
        ("checkout.retry.max_attempts", JSONValue.string("many"), "must be a number or a duration like \"250ms\", got \"many\""),
        ("checkout.retry.max_attempts", JSONValue.double(.nan), "NaN is not a value"),
        ("checkout.retry.max_attempts", JSONValue.double(2.5), "not a whole number"),
        ("checkout.split.canary_weight", JSONValue.int(150), "outside 0...100"),
        ("checkout.bulkhead.max_concurrent", JSONValue.int(0), "zero capacity"),
        ("checkout.timeout.duration", JSONValue.double(-1), "cannot be negative"),
        ("checkout.retry.max_attempts", JSONValue.null, "argument 'value' is missing"),
        ("checkout.retry.max_attempts", JSONValue.bool(true), "must be a number or a duration, got boolean"),
    ])
    func badSetIsRejectedAndChangesNothing(parameter: String, value: JSONValue, message: String) async throws {
        let fixture = try Fixture()
        let before = fixture.registry.parameters()
        let outcome = await fixture.set(parameter, value)
        #expect(outcome.outcome == .rejected)
        #expect(outcome.error?.message.contains(message) == true, "\(String(describing: outcome.error))")
        #expect(fixture.registry.parameters() == before)
        #expect(fixture.plane.audit.recent(1).first?.outcome == .rejected)
    }

    @Test func rejectedNaNIsKeptInTheAudit() async throws {
        let fixture = try Fixture()
        _ = await fixture.set("checkout.retry.max_attempts", .double(.nan))
        let entry = try #require(fixture.plane.audit.recent(1).first)
        #expect(entry.args["value"].doubleValue?.isNaN == true)
    }

    @Test func unknownCommandAndMissingArguments() async throws {
        let fixture = try Fixture()
        let context = CommandContext(identity: .operator("alice"))
        let unknown = await fixture.plane.execute("param.explode", [:], context: context)
        #expect(unknown.outcome == .rejected)
        #expect(unknown.error?.message == "unknown command 'param.explode'")
        let missing = await fixture.plane.execute("param.set", ["value": 1], context: context)
        #expect(missing.error?.message == "param.set: argument 'param' is missing")
        let wrongType = await fixture.plane.execute("param.set", ["param": 3, "value": 1], context: context)
        #expect(wrongType.error?.message == "param.set: argument 'param' must be a string, got number")
        let pipeline = await fixture.plane.execute("breaker.reset", ["pipeline": "nowhere"], context: context)
        #expect(pipeline.error?.message == "breaker.reset: no pipeline named 'nowhere'")
    }

    @Test func shadowsSetPromoteAndClear() async throws {
        let fixture = try Fixture()
        let context = CommandContext(identity: .script("tuner"))
        let set = await fixture.plane.execute(
            "shadow.set", ["param": "checkout.timeout.duration", "value": 0.3], context: context)
        #expect(set.outcome == .applied)
        #expect(try fixture.registry.parameter("checkout.timeout.duration").shadow == 0.3)
        #expect(try fixture.value("checkout.timeout.duration") == 0.5)
        let promote = await fixture.plane.execute("shadow.promote", ["param": "checkout.timeout.duration"], context: context)
        #expect(promote.outcome == .applied)
        #expect(try fixture.value("checkout.timeout.duration") == 0.3)
        let again = await fixture.plane.execute("shadow.promote", ["param": "checkout.timeout.duration"], context: context)
        #expect(again.outcome == .rejected)
        #expect(again.error?.message.contains("no shadow value") == true)
        _ = await fixture.plane.execute("shadow.set", ["param": "checkout.retry.max_attempts", "value": 1], context: context)
        let clear = await fixture.plane.execute("shadow.clear", ["param": "checkout.retry.max_attempts"], context: context)
        #expect(clear.outcome == .applied)
        #expect(try fixture.registry.parameter("checkout.retry.max_attempts").shadow == nil)
    }

    @Test func breakerCommands() async throws {
        let fixture = try Fixture()
        let context = CommandContext(identity: .operator("alice"))
        let open = await fixture.plane.execute("breaker.force_open", ["pipeline": "checkout"], context: context)
        #expect(open.result == ["state": "open"])
        #expect(fixture.pipeline.breaker?.state == .open)
        _ = await fixture.plane.execute("breaker.force_closed", ["pipeline": "checkout"], context: context)
        #expect(fixture.pipeline.breaker?.state == .closed)
        _ = await fixture.plane.execute("breaker.reset", ["pipeline": "checkout"], context: context)
        #expect(fixture.pipeline.breaker?.state == .closed)
    }

    @Test func queriesAnswerWithoutAuditing() async throws {
        let fixture = try Fixture()
        let context = CommandContext(identity: .operator("alice"))
        let count = fixture.plane.audit.recent(100).count
        let get = await fixture.plane.execute("param.get", ["param": "checkout.retry.max_attempts"], context: context)
        #expect(get.result?["value"] == .double(3))
        #expect(get.result?["max"] != .null)
        let pipelines = await fixture.plane.execute("pipelines.list", [:], context: context)
        #expect(pipelines.result == ["checkout"])
        let params = await fixture.plane.execute("params.list", [:], context: context)
        #expect(params.result?.arrayValue?.count == fixture.registry.parameters().count)
        let state = await fixture.plane.execute("state.get", ["pipeline": "checkout"], context: context)
        #expect(state.result?["windows"]["1m"]["calls"] == .int(0))
        #expect(state.result?["windows"]["1m"]["error_rate"] == .double(0))
        #expect(state.result?["breaker"]["state"] == "closed")
        #expect(state.result?["variants"]["canary"]["windows"]["10s"]["p99"] == .double(0))
        #expect(fixture.plane.audit.recent(100).count == count)
    }

    @Test func idempotencyKeyAppliesOnce() async throws {
        let fixture = try Fixture()
        let first = await fixture.set("checkout.retry.max_attempts", 2, key: "deploy-42")
        _ = await fixture.set("checkout.retry.max_attempts", 4)
        let repeat_ = await fixture.set("checkout.retry.max_attempts", 2, key: "deploy-42")
        #expect(first.outcome == .applied)
        #expect(repeat_.repeated)
        #expect(repeat_.outcome == .applied)
        #expect(try fixture.value("checkout.retry.max_attempts") == 4)
    }

    @Test func dryRunChangesNothing() async throws {
        let fixture = try Fixture()
        let outcome = await fixture.set("checkout.retry.max_attempts", 1, dryRun: true)
        #expect(outcome.outcome == .dryRun)
        #expect(try fixture.value("checkout.retry.max_attempts") == 3)
        #expect(fixture.plane.audit.recent(1).first?.outcome == .dryRun)
    }

    @Test func failingCustomCommandIsAuditedAsFailed() async throws {
        struct Exploding: Command {
            let name = "checkout.explode"
            func target(_ arguments: CommandArguments) throws(CommandError) -> String? { "checkout" }
            func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
                struct Boom: Error {}
                throw Boom()
            }
        }
        let fixture = try Fixture()
        try fixture.plane.register(Exploding())
        #expect(throws: CommandError.self) { try fixture.plane.register(Exploding()) }
        let outcome = await fixture.plane.execute("checkout.explode", [:], context: CommandContext(identity: .operator("o")))
        #expect(outcome.outcome == .failed)
        #expect(fixture.plane.audit.recent(1).first?.outcome == .failed)
        #expect(fixture.plane.commandNames.contains("checkout.explode"))
    }

    @Test func slowCustomCommandTimesOut() async throws {
        struct Slow: Command {
            let name = "checkout.slow"
            var timeout: Duration? { .milliseconds(1) }
            func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }
            func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
                // Waits until cancelled: only the timeout can end it.
                try await Task.sleep(for: .seconds(3600))
                return .null
            }
        }
        let fixture = try Fixture()
        try fixture.plane.register(Slow())
        let outcome = await fixture.plane.execute("checkout.slow", [:], context: CommandContext(identity: .operator("o")))
        #expect(outcome.outcome == .failed)
        #expect(outcome.error?.message.contains("timed out") == true)
    }

    @Test func commandStormIsAuditedOneByOne() async throws {
        let fixture = try Fixture(guards: GuardPolicy(maxCommandsPerEvaluation: 50))
        var applied = 0
        for position in 1...10_000 {
            let outcome = await fixture.set("checkout.retry.max_attempts", .int(Int64(1 + position % 5)), position: position)
            if outcome.outcome == .applied { applied += 1 }
        }
        #expect(applied == 50)
        let last = try #require(fixture.plane.audit.recent(1).first)
        #expect(last.outcome == .rejected)
        #expect(last.reason?.contains("max_commands_per_evaluation") == true)
        #expect(fixture.plane.audit.recent(20_000).count <= 10_000)
    }
}
