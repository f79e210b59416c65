import Logging
import Resilience
import Testing

@testable import Sentinel

/// `sentinel.decision` and `sentinel.log`: what an evaluation states besides
/// its commands, kept in its record like a queued command, bounded per
/// evaluation, logged by `sentinel run` and handed to whoever drives the engine.
@Suite struct ScriptDecisionTests {
    /// Logs and decides on every evaluation after the validation run at load.
    static let deciding = """
        return { name = "gate", interval = "5s", evaluate = function(state, memory)
          if sentinel.now() == 0 then return end
          sentinel.log("info", "judging the canary")
          sentinel.log("debug", 42)
          sentinel.decision{ action = "rollback", subject = "checkout.canary", verdict = "regression",
                             reason = "errors 5% vs 1%", evidence = { canary = 0.05, stable = 0.01, window = "1m" } }
          sentinel.decision{ action = "hold", subject = "checkout" }
          sentinel.set("checkout.split.canary_weight", 0, "regression")
        end }
        """

    @Test func decisionsAndLogLinesReachTheRoundInTheOrderWritten() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(path: "p/gate.lua", source: Self.deciding).get()
        fixture.advance(.seconds(5))
        let round = await engine.tick()
        #expect(round.logs.map(\.script) == ["gate", "gate"])
        #expect(round.logs.map(\.line) == [.init(level: .info, message: "judging the canary"), .init(level: .debug, message: "42")])
        #expect(round.decisions.count == 2)
        let rollback = try #require(round.decisions.first)
        #expect(rollback.action == .rollback && rollback.subject == "checkout.canary" && rollback.verdict == "regression")
        #expect(rollback.reason == "errors 5% vs 1%")
        #expect(rollback.evidence == ["canary": 0.05, "stable": 0.01, "window": "1m"])
        #expect(rollback.source == "script:gate" && rollback.script == "gate" && !rollback.dryRun)
        #expect(rollback.time == fixture.plane.now)
        let hold = try #require(round.decisions.last)
        #expect(hold.action == .hold && hold.verdict == nil && hold.reason == nil && hold.evidence.isEmpty)
        // A decision issues no command: the rule's own set is the only one.
        #expect(round.outcomes.map(\.command) == ["param.set"])
    }

    @Test func aDryRunScriptsDecisionsSaySo() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let source = Self.deciding.replacingFirst("interval = \"5s\",", "interval = \"5s\", dry_run = true,")
        _ = try await engine.load(path: "p/gate.lua", source: source).get()
        fixture.advance(.seconds(5))
        #expect(await engine.tick().decisions.map(\.dryRun) == [true, true])
    }

    @Test func anEvaluationThatRaisesKeepsNeitherItsLogLinesNorItsDecisions() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let source = Self.deciding.replacingFirst(
            "sentinel.set(\"checkout.split.canary_weight\", 0, \"regression\")", "error(\"boom\")")
        _ = try await engine.load(path: "p/gate.lua", source: source).get()
        fixture.advance(.seconds(5))
        let round = await engine.tick()
        #expect(round.failed["gate"] != nil)
        #expect(round.logs.isEmpty && round.decisions.isEmpty && round.outcomes.isEmpty)
    }

    @Test func sentinelRunLogsADecisionAtInfoWithItsFields() async throws {
        let fixture = try Fixture()
        let recorder = LogRecorder()
        let engine = ScriptEngine(plane: fixture.plane, logger: recorder.logger)
        _ = try await engine.load(path: "p/gate.lua", source: Self.deciding).get()
        fixture.advance(.seconds(5))
        await engine.tick()
        let decisions = recorder.entries.filter { $0.message.hasPrefix("gate: decision") }
        #expect(decisions.map(\.level) == [.info, .info])
        let rollback = try #require(decisions.first)
        #expect(rollback.message == "gate: decision rollback checkout.canary (regression): errors 5% vs 1%")
        #expect(rollback.metadata["decision.action"] == "rollback")
        #expect(rollback.metadata["decision.subject"] == "checkout.canary")
        #expect(rollback.metadata["decision.verdict"] == "regression")
        #expect(rollback.metadata["decision.evidence"] == "{\"canary\":0.05,\"stable\":0.01,\"window\":\"1m\"}")
        #expect(decisions.last?.message == "gate: decision hold checkout")
        #expect(recorder.entries.contains { $0.level == .info && $0.message == "gate: judging the canary" })
    }

    @Test func aLoggedDecisionCarriesAnExcerptOfALargeEvidence() async throws {
        let fixture = try Fixture()
        let recorder = LogRecorder()
        let engine = ScriptEngine(plane: fixture.plane, logger: recorder.logger)
        _ = try await engine.load(
            path: "p/big.lua",
            source: """
                return { interval = "5s", evaluate = function(state)
                  sentinel.decision{ action = "hold", subject = "checkout", evidence = { notes = string.rep("x", 50000) } }
                end }
                """
        ).get()
        fixture.advance(.seconds(5))
        let round = await engine.tick()
        #expect(round.decisions.first?.evidence["notes"]?.stringValue?.count == 50000, "the event keeps it whole")
        let logged = try #require(recorder.entries.first { $0.message.hasPrefix("big: decision") })
        let evidence = "\(logged.metadata["decision.evidence"] ?? "")"
        #expect(evidence.count <= ScriptEngine.maximumLoggedText + 10 && evidence.count > 1000, "\(evidence.count) characters")
    }

    static let badCalls: [(String, String)] = [
        ("sentinel.decision('rollback')", "bad argument #1 to 'sentinel.decision' (table expected, got string)"),
        ("sentinel.decision({ action = 'hold', subject = 'x' }, 2)", "wrong number of arguments to 'sentinel.decision'"),
        ("sentinel.decision{ subject = 'x' }", "'action' is missing (one of \"advance\", \"hold\", \"promote\", \"rollback\")"),
        (
            "sentinel.decision{ action = 'rolback', subject = 'x' }",
            "action must be one of \"advance\", \"hold\", \"promote\", \"rollback\", got \"rolback\""
        ),
        ("sentinel.decision{ action = 1, subject = 'x' }", "action must be a string, got number"),
        ("sentinel.decision{ action = 'hold' }", "'subject' is missing"),
        ("sentinel.decision{ action = 'hold', subject = {} }", "subject must be a string, got table"),
        ("sentinel.decision{ action = 'hold', subject = '' }", "subject must be a non-empty string"),
        ("sentinel.decision{ action = 'hold', subject = ('x'):rep(201) }", "subject is longer than 200 characters"),
        ("sentinel.decision{ action = 'hold', subject = 'x', verdict = 5 }", "verdict must be a string, got number"),
        ("sentinel.decision{ action = 'hold', subject = 'x', verdict = ('v'):rep(201) }", "verdict is longer than 200 characters"),
        ("sentinel.decision{ action = 'hold', subject = 'x', reason = true }", "reason must be a string, got boolean"),
        ("sentinel.decision{ action = 'hold', subject = 'x', evidence = 3 }", "evidence must be a table, got number"),
        ("sentinel.decision{ action = 'hold', subject = 'x', evidence = { 1, 2 } }", "evidence must be a table of named values"),
        ("sentinel.decision{ action = 'hold', subject = 'x', evidnce = {} }", "unknown field 'evidnce' (expected one of: action, subject"),
        (
            "sentinel.decision{ action = 'hold', subject = 'x', evidence = { blob = ('x'):rep(70000) } }",
            "evidence is 70011 bytes as JSON, above the limit of 65536"
        ),
    ]

    @Test(arguments: badCalls)
    func aBadArgumentRaisesAtTheCallNamingTheField(call: String, message: String) async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let result = await engine.load(path: "p/bad.lua", source: "return { interval = '1s', evaluate = function() \(call) end }")
        guard case .failure(let error) = result else {
            Issue.record("no error for \(call)")
            return
        }
        #expect(error.message.contains(message), "\(call): \(error)")
        #expect(error.line == 1, "the error points at the call")
    }

    @Test func logLinesAndDecisionsAreBoundedPerEvaluation() async throws {
        let fixture = try Fixture()
        // The instruction budget stays; the wall-clock deadline only guards against a hang on a loaded machine.
        var limits = ControlPlaneConfiguration().limits  // the defaults
        limits.deadline = .seconds(5)
        let engine = ScriptEngine(plane: fixture.plane, limits: limits, logger: .silent)
        _ = try await engine.load(
            path: "p/loud.lua",
            source: """
                return { name = "loud", interval = "1s", evaluate = function()
                  for i = 1, 60 do sentinel.log("info", ("line " .. i .. " "):rep(1000)) end
                  for i = 1, 105 do sentinel.decision{ action = "hold", subject = "s" .. i, reason = ("r"):rep(5000) } end
                end }
                """
        ).get()
        fixture.advance(.seconds(1))
        let round = await engine.tick()
        #expect(round.decisions.count == ScriptDecision.maximumPerEvaluation)
        #expect(round.decisions.last?.subject == "s100")
        #expect(round.decisions.allSatisfy { ($0.reason?.count ?? 0) == ScriptEngine.maximumLoggedText + 1 })  // and "…"
        #expect(round.logs.count == ScriptLogLine.maximumPerEvaluation + 1)
        #expect(round.logs.dropLast().allSatisfy { $0.line.message.count == ScriptEngine.maximumLoggedText + 1 })
        let note = try #require(round.logs.last?.line)
        #expect(note.level == .warning)
        #expect(note.message.hasPrefix("dropped 10 log lines and 5 decisions of this evaluation"))
    }
}
