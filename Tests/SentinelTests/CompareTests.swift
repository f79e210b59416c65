import Resilience
import Testing

@testable import Sentinel

/// `sentinel.compare`: the trial judge, called from a rule, on the fixture's
/// `stable` and `canary` variants.
@Suite struct CompareTests {
    static let millisecond: Int64 = 1_000_000

    /// Records `fast` calls at 40 ms and `slow` calls at `slowLatency` into a variant.
    func record(_ fixture: Fixture, _ variant: String, fast: Int, slow: Int, slowLatency: Int64, failures: Int = 0) {
        let windows = fixture.pipeline.variantWindows.first { $0.name == variant }!.windows
        let now = fixture.pipeline.time.now()
        for index in 0..<fast {
            windows.record(index < failures ? .failure : .success, latency: 40 * Self.millisecond, now: now)
        }
        for _ in 0..<slow { windows.record(.success, latency: slowLatency, now: now) }
    }

    /// A fixture whose stable variant has 1 % of 10,000 calls at 200 ms, one minute in.
    func stableWithASlowPercent() throws -> Fixture {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        record(fixture, "stable", fast: 9_900, slow: 100, slowLatency: 200 * Self.millisecond)
        return fixture
    }

    /// Loads a rule whose `evaluate` runs `body`; the load's dry run raises if an assert fails.
    func load(_ fixture: Fixture, _ body: String, sample: Bool = false) async -> Result<String, ScriptFailure> {
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent, sample: sample)
        return await engine.load(
            path: "p/compare.lua",
            source: """
                local LATENCY = { error_rate = false, rejection_rate = false, timeout_rate = false,
                                  p99 = { relative = 0.2 }, confidence = 0.99 }
                local function compare(fields)
                  fields.pipeline = fields.pipeline or "checkout"
                  fields.candidate = fields.candidate or "canary"
                  fields.reference = fields.reference or "stable"
                  return sentinel.compare(fields)
                end
                return { interval = "10s", evaluate = function(state)
                \(body)
                end }
                """)
    }

    @Test func aHeavierTailIsAViolationWithItsEvidence() async throws {
        let fixture = try stableWithASlowPercent()
        record(fixture, "canary", fast: 1_900, slow: 100, slowLatency: 400 * Self.millisecond)
        let result = await load(
            fixture,
            """
            local verdict, evidence = compare{ window = "1m", min_samples = 1000, criteria = LATENCY }
            assert(verdict == "violation", verdict)
            assert(evidence.violated:find("p99"), evidence.violated)
            assert(evidence["p99.tail_p_value"] < 0.01)
            assert(evidence.candidate_calls == 2000 and evidence.reference_calls == 10000)
            """)
        #expect(throws: Never.self) { try result.get() }
    }

    /// A p99 beyond its tolerance on a few slow calls is noise, not a finding:
    /// the tail test cannot tell 15 slow calls in 1,000 from stable's 1 %.
    @Test func aHighP99OnFewSlowCallsIsNotAViolation() async throws {
        let fixture = try stableWithASlowPercent()
        record(fixture, "canary", fast: 985, slow: 15, slowLatency: 300 * Self.millisecond)
        let result = await load(
            fixture,
            """
            local canary = state.pipelines.checkout.variants.canary.windows["1m"]
            local stable = state.pipelines.checkout.variants.stable.windows["1m"]
            assert(canary.p99 > 1.2 * stable.p99, "the p99 alone would be a violation")
            local verdict, evidence = compare{ window = "1m", min_samples = 1000, criteria = LATENCY }
            assert(verdict == "pass", verdict .. " " .. tostring(evidence.violated))
            assert(evidence["p99.tail_p_value"] > 0.01)
            """)
        #expect(throws: Never.self) { try result.get() }
    }

    @Test func errorsAreJudgedByDefaultAndTooFewCallsAreInconclusive() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        record(fixture, "stable", fast: 1_000, slow: 0, slowLatency: 0, failures: 5)
        record(fixture, "canary", fast: 1_000, slow: 0, slowLatency: 0, failures: 60)
        let result = await load(
            fixture,
            """
            local verdict, evidence = compare{ window = "5m" }
            assert(verdict == "violation" and evidence.violated == "error_rate", verdict)
            local few, why = compare{ window = "5m", min_samples = 5000 }
            assert(few == "inconclusive" and why.reason:find("too few samples"), few)
            local empty = compare{ window = "10s", candidate = "shadow", reference = "live" }
            assert(empty == "inconclusive")
            """)
        #expect(throws: Never.self) { try result.get() }
    }

    @Test func inTheCheckEveryPipelineAndSideIsInconclusive() async throws {
        let fixture = try Fixture()
        let result = await load(
            fixture,
            """
            assert(compare{ pipeline = "anything", candidate = "blue", reference = "green" } == "inconclusive")
            """, sample: true)
        #expect(throws: Never.self) { try result.get() }
    }

    static let badCalls: [(String, String)] = [
        ("sentinel.compare('checkout')", "table expected"),
        ("sentinel.compare{ candidate = 'canary', reference = 'stable' }", "'pipeline' is missing"),
        ("compare{ candidate = 1 }", "'candidate' must be a non-empty string, got number"),
        ("compare{ windw = '1m' }", "unknown field 'windw'"),
        ("compare{ window = '2m' }", "window must be \"10s\", \"1m\", \"5m\" or \"15m\", got \"2m\""),
        ("compare{ min_samples = 0 }", "min_samples must be a whole number of at least 1"),
        ("compare{ min_samples = 1.5 }", "min_samples must be a whole number of at least 1"),
        ("compare{ pipeline = 'nowhere' }", "no pipeline named 'nowhere'"),
        ("compare{ candidate = 'canery' }", "pipeline 'checkout' has no side 'canery' (expected one of: live, shadow, stable, canary)"),
        ("compare{ criteria = { confidence = 1.5 } }", "criteria.confidence must be between 0.5 and 1"),
        ("compare{ criteria = { p95 = false } }", "criteria: unknown field 'p95'"),
        ("compare{ criteria = { p99 = { relative = -1 } } }", "criteria.p99: tolerances cannot be negative"),
        ("compare{ criteria = 'strict' }", "criteria must be a table"),
    ]

    @Test(arguments: badCalls)
    func badArgumentsRaiseAndNameTheMistake(call: String, message: String) async throws {
        let fixture = try Fixture()
        let result = await load(fixture, call)
        #expect(throws: ScriptFailure.self) { try result.get() }
        if case .failure(let error) = result {
            #expect(error.message.contains(message), "\(call): \(error.message)")
        }
    }
}
