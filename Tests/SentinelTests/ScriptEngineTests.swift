import Resilience
import Testing

@testable import Sentinel

/// The engine: loading, evaluating on the clock, applying through the control plane.
@Suite struct ScriptEngineTests {
    static let shedRetries = """
        return {
          name = "shed-retries",
          interval = "5s",
          evaluate = function(state, memory)
            local w = state.pipelines.checkout.windows["1m"]
            memory.ticks = (memory.ticks or 0) + 1
            if w.calls >= 0 and w.error_rate == 0 then
              sentinel.set("checkout.retry.max_attempts", 1, { reason = "calm test", evidence = { ticks = memory.ticks } })
            end
          end,
        }
        """

    func engine(_ fixture: Fixture, failureLimit: Int = 3) -> ScriptEngine {
        ScriptEngine(plane: fixture.plane, failureLimit: failureLimit, logger: .silent)
    }

    @Test func scriptRunsOnItsIntervalAndItsCommandsApply() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        let loaded = await engine.load(path: "policies/shed.lua", source: Self.shedRetries)
        #expect(try loaded.get() == "shed-retries")
        #expect(await engine.tick().evaluated.isEmpty)  // not due yet
        fixture.advance(.seconds(5))
        let round = await engine.tick()
        #expect(round.evaluated == ["shed-retries"])
        #expect(round.outcomes.map(\.outcome.outcome) == [.applied])
        #expect(try fixture.value("checkout.retry.max_attempts") == 1)
        let entry = try #require(fixture.plane.audit.last)
        #expect(entry.actor == "script:shed-retries")
        #expect(entry.reason == "calm test")
        #expect(entry.evidence == ["ticks": 1])  // the validation run at load does not count
        let audit = fixture.plane.audit.entries.map(\.action)
        #expect(audit.contains("script.load"))
    }

    @Test func missedTicksAreCoalesced() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        await engine.load(path: "policies/shed.lua", source: Self.shedRetries)
        fixture.advance(.seconds(5 * 10 + 1))
        let round = await engine.tick()
        #expect(round.evaluated == ["shed-retries"])
        #expect(round.missedTicks == 9)
        #expect(await engine.tick().evaluated.isEmpty)
        #expect(await engine.status(of: "shed-retries")?.missedTicks == 9)
    }

    @Test func brokenEditKeepsLastGoodVersion() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        await engine.load(path: "policies/guard.lua", source: Self.shedRetries)
        let digest = await engine.status(of: "shed-retries")?.digest
        for broken in [
            "return {", "return { interval = '5s' }", "return { interval = 0, evaluate = function() end }",
            "return { interval = '5s', evaluate = function(s) return s.nope.x end }", "while true do end",
        ] {
            let result = await engine.load(path: "policies/guard.lua", source: broken)
            #expect(throws: ScriptFailure.self) { try result.get() }
            #expect(await engine.status(of: "shed-retries")?.digest == digest)
            let entry = try #require(fixture.plane.audit.last)
            #expect(entry.action == "script.reload")
            #expect(entry.outcome == .failed)
            #expect(entry.reason?.hasPrefix("policies/guard.lua:") == true, "\(entry.reason ?? "")")
        }
    }

    @Test(arguments: [
        ("return { evaluate = function() end }", "field 'interval' is required"),
        ("return { interval = 0, evaluate = function() end }", "field 'interval' must be positive"),
        ("return { interval = -5, evaluate = function() end }", "field 'interval' must be positive"),
        ("return { interval = '10ms', evaluate = function() end }", "below the minimum of 0.1s"),
        ("return { interval = 'soon', evaluate = function() end }", "field 'interval' must be a duration"),
        ("return { interval = '5s' }", "field 'evaluate' must be a function, got nil"),
        ("return 42", "the script must return a table"),
        ("return { interval = '5s', dry_run = 'yes', evaluate = function() end }", "field 'dry_run' must be true or false"),
        ("return { name = 'a b', interval = '5s', evaluate = function() end }", "is not a script name"),
        (
            "return {\n  interval = 1e10,\n  evaluate = function() end }",
            "policies/bad.lua:2: field 'interval' is 1e10 s, above the maximum of 24h"
        ),
        (
            "return {\n  interval = '2562048h',\n  evaluate = function() end }",
            "policies/bad.lua:2: field 'interval' is 9.22e9 s, above the maximum of 24h"
        ),
        ("return {\n  interval = 9223372036,\n  evaluate = function() end }", "policies/bad.lua:2: field 'interval' is 9.22e9 s"),
        ("return {\n  interval = '5s',\n  colour = 'red',\n  evaluate = function() end }", "policies/bad.lua:3: unknown field 'colour'"),
        (
            "return { interval = '5s', evaluate = function() return " + String(repeating: "(", count: 300) + "1"
                + String(repeating: ")", count: 300) + " end }", "policies/bad.lua:1: C stack overflow (the code nests too deeply)"
        ),
    ])
    func badDefinitionIsRefused(source: String, message: String) async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        let result = await engine.load(path: "policies/bad.lua", source: source)
        guard case .failure(let error) = result else {
            Issue.record("loaded: \(source)")
            return
        }
        #expect(error.description.contains(message), "\(error)")
        #expect(error.path == "policies/bad.lua")
    }

    @Test func twoScriptsWithTheSameNameKeepTheFirst() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        await engine.load(path: "a/shed.lua", source: Self.shedRetries)
        let second = await engine.load(path: "b/shed.lua", source: Self.shedRetries)
        guard case .failure(let error) = second else { Issue.record("second loaded"); return }
        #expect(error.message == "a script named 'shed-retries' is already loaded from a/shed.lua")
        #expect(await engine.scripts.count == 1)
    }

    @Test func raisingScriptAppliesNothingAndIsSuspendedAfterK() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture, failureLimit: 3)
        let source = """
            return { name = "flaky", interval = "1s", evaluate = function(state, memory)
              if sentinel.now() > 0 then  -- passes the validation run at load, fails on every tick
                sentinel.set("checkout.retry.max_attempts", 1)
                error("boom")
              end
            end }
            """
        await engine.load(path: "policies/flaky.lua", source: source)
        for _ in 1...3 {
            fixture.advance(.seconds(1))
            let round = await engine.tick()
            #expect(round.failed["flaky"]?.message.contains("boom") == true)
            #expect(round.outcomes.isEmpty)
        }
        #expect(try fixture.value("checkout.retry.max_attempts") == 3)
        #expect(await engine.status(of: "flaky")?.suspended == true)
        #expect(fixture.plane.audit.last?.action == "script.suspend")
        fixture.advance(.seconds(1))
        #expect(await engine.tick().evaluated.isEmpty)
        // A script may not resume it; an operator may.
        try fixture.plane.register(ScriptResumeCommand(engine: engine))
        let bySript = await fixture.plane.execute("script.resume", ["name": "flaky"], context: .init(identity: .script("x")))
        #expect(bySript.outcome == .denied)
        let resume = await fixture.plane.execute("script.resume", ["name": "flaky"], context: .init(identity: .operator("o")))
        #expect(resume.outcome == .applied)
        #expect(await engine.status(of: "flaky")?.suspended == false)
    }

    @Test func dryRunScriptsAreAuditedNotApplied() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        await engine.load(
            path: "p/dry.lua", source: Self.shedRetries.replacingFirst("interval = \"5s\",", "interval = \"5s\", dry_run = true,"))
        fixture.advance(.seconds(5))
        let round = await engine.tick()
        #expect(round.outcomes.map(\.outcome.outcome) == [.dryRun])
        #expect(try fixture.value("checkout.retry.max_attempts") == 3)
    }

    @Test func sameKnobInOneRoundIsDecidedByName() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        for (name, value) in [("zeta", 2), ("alpha", 4)] {
            await engine.load(
                path: "p/\(name).lua",
                source: """
                    return { name = "\(name)", interval = "1s", evaluate = function()
                      sentinel.set("checkout.retry.max_attempts", \(value))
                    end }
                    """)
        }
        fixture.advance(.seconds(1))
        let round = await engine.tick()
        #expect(round.evaluated == ["alpha", "zeta"])
        #expect(try fixture.value("checkout.retry.max_attempts") == 2)
    }

    @Test func callTimeMistakesRaiseAndApplyTimeOnesAreAudited() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        let raising = [
            "sentinel.set('checkout', 1)": "is not a parameter name",
            "sentinel.set('checkout.retry.max_attempts', 0/0)": "is not a finite number",
            "sentinel.set('checkout.retry.max_attempts', 1/0)": "is not a finite number",
            "sentinel.set('checkout.retry.max_attempts', {})": "number expected, got table",
            "sentinel.set('checkout.retry.max_attempts', 1, 42)": "why must be a string or a table",
            "sentinel.alert('loud', 'x')": "severity must be",
            "sentinel.command('nodots', {})": "is not a command name",
        ]
        for (call, message) in raising {
            let result = await engine.load(path: "p/raise.lua", source: "return { interval = '1s', evaluate = function() \(call) end }")
            guard case .failure(let error) = result else { Issue.record("no error for \(call)"); continue }
            #expect(error.message.contains(message), "\(call): \(error)")
        }
        await engine.load(
            path: "p/apply.lua",
            source: """
                return { interval = '1s', evaluate = function()
                  sentinel.set("nope.retry.max_attempts", 1)
                  sentinel.set("checkout.retry.max_attempts", 1000000)
                  sentinel.set("checkout.retry.max_attempts", 2)
                end }
                """)
        fixture.advance(.seconds(1))
        let round = await engine.tick()
        #expect(round.outcomes.map(\.outcome.outcome) == [.rejected, .rejected, .applied])
        #expect(try fixture.value("checkout.retry.max_attempts") == 2)
    }

    @Test func helpersHoldCooldownAndDuration() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        await engine.load(
            path: "p/helpers.lua",
            source: """
                return { interval = '1s', evaluate = function(state, memory)
                  memory.log = memory.log or {}
                  local held = sentinel.held("calm", true, 3)
                  local cool = sentinel.cooldown("act", "2s")
                  memory.log[#memory.log + 1] = (held and "H" or "-") .. (cool and "C" or "-")
                  sentinel.log("info", table.concat(memory.log, " ") .. " " .. sentinel.duration("1m30s"))
                  if #memory.log == 5 then sentinel.set("checkout.retry.max_attempts", #memory.log) end
                end }
                """)
        for _ in 1...5 {
            fixture.advance(.seconds(1))
            await engine.tick()
        }
        // Five evaluations (the validation run at load does not count).
        #expect(try fixture.value("checkout.retry.max_attempts") == 5)
    }

    @Test func stateLooksAsDocumented() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        let result = await engine.load(
            path: "p/state.lua",
            source: """
                return { interval = '1s', evaluate = function(state)
                  local p = state.pipelines.checkout
                  assert(type(state.now) == "number")
                  assert(p.windows["10s"].calls == 0 and p.windows["15m"].p99 == 0 and p.windows["1m"].error_rate == 0)
                  assert(p.shadow.windows["1m"].calls == 0)
                  assert(p.variants.canary.windows["5m"].calls == 0)
                  assert(p.breaker.state == "closed")
                  assert(p.bulkhead.capacity == 10 and p.bulkhead.in_use == 0)
                  assert(state.params["checkout.retry.max_attempts"].value == 3)
                  assert(state.params["checkout.retry.max_attempts"].max >= 3)
                  assert(state.pipelines.nowhere == nil)
                  assert(sentinel.get("checkout.retry.max_attempts") == 3)
                  assert(sentinel.get("nope.retry.max_attempts") == nil)
                  assert(not pcall(function() state.pipelines.checkout = nil end))
                end }
                """)
        #expect(throws: Never.self) { try result.get() }
    }

    @Test func aScriptsOwnHugeTextIsBoundedInTheLogAndTheAudit() async throws {
        let fixture = try Fixture()
        let engine = engine(fixture)
        // The validation run at load raises a megabyte of text: the error, the log and the audit get a prefix.
        let result = await engine.load(
            path: "policies/loud.lua",
            source: """
                return { interval = "1s", evaluate = function() error(("x"):rep(1000000)) end }
                """)
        guard case .failure(let error) = result else {
            Issue.record("loaded")
            return
        }
        #expect(error.message.count <= ScriptEngine.maximumLoggedText + 1)
        let failure = try #require(fixture.plane.audit.entries.last { $0.outcome == .failed })
        #expect((failure.reason?.count ?? 0) < ScriptEngine.maximumLoggedText + 200)
    }

    @Test func aRejectedCommandsAuditEntryNamesItsTarget() async throws {
        let fixture = try Fixture()
        let outcome = await fixture.set("checkout.nope.knob", 3)
        #expect(outcome.outcome == .rejected)
        #expect(outcome.entry?.target == "checkout.nope.knob")
        let name = String(repeating: "x", count: 1_000_000)
        let unknown = await fixture.plane.execute(name, [:], context: CommandContext(identity: .operator("alice")))
        #expect((unknown.error?.message.count ?? 0) < 200)
    }
}

extension String {
    func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
