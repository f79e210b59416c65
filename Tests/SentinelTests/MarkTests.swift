import Resilience
import Testing

@testable import Sentinel

/// `sentinel.mark` and `sentinel.since`: a pipeline's statistics since an
/// instant the script chose, exact and with no time limit, and
/// `sentinel.compare{ since = ... }` on them.
@Suite struct MarkTests {
    static let millisecond: Int64 = 1_000_000

    /// Records `calls` outcomes (the first `failures` failed) on the live windows and on a variant's.
    func record(_ fixture: Fixture, _ variant: String, calls: Int, failures: Int, latency: Int64 = 40 * millisecond) {
        let windows = fixture.pipeline.variantWindows.first { $0.name == variant }!.windows
        let now = fixture.pipeline.time.now()
        for index in 0..<calls {
            let outcome: Outcome = index < failures ? .failure : .success
            windows.record(outcome, latency: latency, now: now)
            fixture.pipeline.windows.record(outcome, latency: latency, now: now)
        }
    }

    /// `count` ticks 10 s apart, each followed by a batch on both variants
    /// (`canary` and `stable`: calls and how many of them failed); the rounds, in order.
    func tick(
        _ engine: ScriptEngine, _ fixture: Fixture, _ count: Int, canary: (Int, Int) = (0, 0), stable: (Int, Int) = (0, 0)
    ) async -> [ScriptEngine.Round] {
        var rounds: [ScriptEngine.Round] = []
        for _ in 0..<count {
            fixture.advance(.seconds(10))
            rounds.append(await engine.tick())
            record(fixture, "canary", calls: canary.0, failures: canary.1)
            record(fixture, "stable", calls: stable.0, failures: stable.1)
        }
        return rounds
    }

    /// The script checks, at every tick, that the step holds exactly the batches recorded since its mark.
    static let counting = """
        return { interval = "10s", evaluate = function(state, memory)
          memory.ticks = (memory.ticks or 0) + 1
          if memory.ticks == 1 then
            assert(sentinel.since("checkout", "step") == nil, "no mark yet")
            memory.at = sentinel.mark("checkout", "step")
            assert(memory.at == state.now)
          end
          local step = sentinel.since("checkout", "step")
          local batches = memory.ticks - 1
          local canary, stable = step.variants.canary, step.variants.stable
          assert(canary.calls == 10 * batches, "canary " .. canary.calls .. " after " .. batches)
          assert(canary.failures == batches and stable.calls == 100 * batches and stable.failures == 0)
          assert(step.calls == 110 * batches and step.shadow.calls == 0)
          assert(step.since == memory.at and step.seconds == state.now - memory.at)
          if batches > 0 then assert(canary.error_rate == 0.1 and canary.p99 > 0.039 and canary.p99 < 0.041) end
          if batches > 150 then
            local window = state.pipelines.checkout.variants.canary.windows["15m"]
            assert(window.calls < canary.calls, "the window forgot, the mark did not")
          end
        end }
        """

    @Test func sinceCountsEverythingSinceTheMarkWithNoTimeLimit() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        record(fixture, "canary", calls: 500, failures: 100)  // before the mark: not counted
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(path: "p/step.lua", source: Self.counting).get()
        // 40 minutes of ticks, each followed by a batch: 10 canary calls (1 failed) and 100 stable calls.
        for round in await tick(engine, fixture, 240, canary: (10, 1), stable: (100, 0)) {
            #expect(round.evaluated == ["step"])
            #expect(round.failed.isEmpty, "\(round.failed)")
        }
    }

    @Test func marksSurviveAReloadAndAMarkAgainStartsOver() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(path: "p/step.lua", source: Self.counting).get()
        for round in await tick(engine, fixture, 5, canary: (10, 1), stable: (100, 0)) { #expect(round.failed.isEmpty) }
        // A new version (a comment added) inherits memory and marks: the count goes on.
        _ = try await engine.load(path: "p/step.lua", source: "-- edited\n" + Self.counting).get()
        for round in await tick(engine, fixture, 3, canary: (10, 1), stable: (100, 0)) { #expect(round.failed.isEmpty) }
        // Marking again resets the tally.
        _ = try await engine.load(
            path: "p/step.lua",
            source: """
                return { interval = "10s", evaluate = function(state, memory)
                  local before = sentinel.since("checkout", "step")
                  assert(before.variants.canary.calls >= 80, before.variants.canary.calls)
                  sentinel.mark("checkout", "step")
                  assert(sentinel.since("checkout", "step").variants.canary.calls == 0)
                end }
                """
        ).get()
        fixture.advance(.seconds(10))
        #expect(await engine.tick().failed.isEmpty)
    }

    @Test func compareJudgesTheDataSinceTheMark() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        // Before the mark the canary failed a lot; since, it is as good as stable.
        record(fixture, "canary", calls: 1_000, failures: 300)
        record(fixture, "stable", calls: 1_000, failures: 5)
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(
            path: "p/judge.lua",
            source: """
                return { interval = "10s", evaluate = function(state, memory)
                  if not memory.marked then
                    memory.marked = true
                    sentinel.mark("checkout", "step")
                    local window = sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable", window = "1m" }
                    assert(window == "violation", "the window still holds the bad minute: " .. window)
                    return
                  end
                  local verdict, evidence = sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable",
                                                              since = "step", min_samples = 1000 }
                  assert(verdict == "pass", verdict .. " " .. tostring(evidence.violated or evidence.reason))
                  assert(evidence.candidate_calls == 2000 and evidence.since_seconds == 10, evidence.candidate_calls)
                end }
                """
        ).get()
        fixture.advance(.seconds(10))
        #expect(await engine.tick().failed.isEmpty)
        record(fixture, "canary", calls: 2_000, failures: 10)
        record(fixture, "stable", calls: 2_000, failures: 10)
        fixture.advance(.seconds(10))
        let round = await engine.tick()
        #expect(round.evaluated == ["judge"] && round.failed.isEmpty, "\(round.failed)")
    }

    /// Ticks every 10 s; after each, a batch: 1,000 stable calls (5 failed) and 100 canary calls
    /// (`canaryFailures` failed). The script records the sequential verdict at every look.
    func sequentialRun(canaryFailures: Int, ticks: Int) async throws -> [String] {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        record(fixture, "canary", calls: 1_000, failures: 500)  // before the mark: not judged
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(
            path: "p/sequential.lua",
            source: """
                return { interval = "10s", evaluate = function(state, memory)
                  if not memory.marked then memory.marked = true; sentinel.mark("checkout", "step") end
                  local verdict, evidence = sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable",
                    since = "step", mode = "sequential", criteria = { confidence = 0.999, p99 = false } }
                  assert(evidence["error_rate.looks"] ~= nil or verdict == "continue")
                  if verdict == "violation" then
                    assert(evidence.violated == "error_rate", evidence.violated)
                    assert(evidence["error_rate.difference_lower"] > 0.005, evidence["error_rate.difference_lower"])
                  end
                  sentinel.log("info", verdict)
                end }
                """
        ).get()
        var verdicts: [String] = []
        for round in await tick(engine, fixture, ticks, canary: (100, canaryFailures), stable: (1_000, 5)) {
            #expect(round.failed.isEmpty, "\(round.failed)")
            verdicts += round.logs.map(\.line.message)
        }
        return verdicts
    }

    @Test func aSequentialCompareCatchesARegressionSinceTheMarkAndKeepsItsVerdict() async throws {
        // 4 % against 0.5 %: over the tolerance (1 point + 10 %) by far.
        let verdicts = try await sequentialRun(canaryFailures: 4, ticks: 40)
        let first = try #require(verdicts.firstIndex(of: "violation"), "\(verdicts)")
        #expect(verdicts[0] == "continue", "nothing to judge at the mark")
        #expect(first <= 30, "violation only at look \(first)")
        #expect(verdicts[first...].allSatisfy { $0 == "violation" }, "a violation stays: \(verdicts)")
    }

    @Test func aSequentialCompareLetsAHealthyCanaryPass() async throws {
        // 0 or 1 failure per 100 canary calls against 0.5 % (the canary is no worse): pass, never a violation.
        let verdicts = try await sequentialRun(canaryFailures: 0, ticks: 60)
        #expect(!verdicts.contains("violation"), "\(verdicts)")
        #expect(verdicts.last == "pass", "\(verdicts)")
    }

    @Test func aNewMarkStartsTheSequentialTestsAgain() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(
            path: "p/remark.lua",
            source: """
                return { interval = "10s", evaluate = function(state, memory)
                  memory.ticks = (memory.ticks or 0) + 1
                  if memory.ticks == 1 or memory.ticks == 30 then sentinel.mark("checkout", "step") end
                  local verdict, evidence = sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable",
                    since = "step", mode = "sequential", criteria = { confidence = 0.999, p99 = false } }
                  if memory.ticks == 29 then assert(verdict == "violation", "violation before the new mark: " .. verdict) end
                  if memory.ticks == 30 then
                    assert(verdict == "continue" and evidence["error_rate.looks"] == 1, "the tests start again: " .. verdict)
                  end
                end }
                """
        ).get()
        for (index, round) in await tick(engine, fixture, 31, canary: (100, 8), stable: (1_000, 5)).enumerated() {
            #expect(round.failed.isEmpty, "tick \(index)")
        }
    }

    @Test func criteriaThatChangeEveryLookAreRefusedAfterAFew() async throws {
        let fixture = try Fixture()
        fixture.advance(.seconds(60))
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        _ = try await engine.load(
            path: "p/drift.lua",
            source: """
                return { interval = "10s", evaluate = function(state, memory)
                  memory.ticks = (memory.ticks or 0) + 1
                  if memory.ticks == 1 then sentinel.mark("checkout", "step") end
                  sentinel.compare{ pipeline = "checkout", candidate = "canary", reference = "stable",
                    since = "step", mode = "sequential", min_samples = 100 + memory.ticks }
                end }
                """
        ).get()
        let failures = await tick(engine, fixture, 9).flatMap { $0.failed.values.map(\.message) }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.contains("mark 'step' has 8 sequential comparisons already") == true, "\(failures)")
    }

    @Test func inTheCheckASequentialCompareContinuesWithItsEvidence() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent, sample: true)
        let result = await engine.load(
            path: "p/any.lua",
            source: """
                return { interval = "10s", evaluate = function(state)
                  sentinel.mark("anything", "step")
                  local verdict, evidence = sentinel.compare{ pipeline = "anything", candidate = "a", reference = "b",
                    since = "step", mode = "sequential" }
                  assert(verdict == "continue" and evidence.candidate_calls == 0 and evidence.since_seconds == 0)
                  local fixed, why = sentinel.compare{ pipeline = "anything", candidate = "a", reference = "b", since = "step" }
                  assert(fixed == "inconclusive" and why.since_seconds == 0)
                end }
                """)
        #expect(throws: Never.self) { try result.get() }
    }

    @Test func inTheCheckMarksWorkOnAnyPipelineWithoutTraffic() async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent, sample: true)
        let result = await engine.load(
            path: "p/any.lua",
            source: """
                return { interval = "10s", evaluate = function(state)
                  sentinel.mark("anything", "step")
                  local step = sentinel.since("anything", "step")
                  assert(step.calls == 0 and step.error_rate == 0 and next(step.variants) == nil)
                end }
                """)
        #expect(throws: Never.self) { try result.get() }
    }

    static let badCalls: [(String, String)] = [
        ("sentinel.mark('checkout')", "(expected 2, got 1)"),
        ("sentinel.mark('', 'step')", "the pipeline's name is empty"),
        ("sentinel.mark('checkout', '')", "a mark's name has 1 to 64 bytes"),
        ("sentinel.mark('checkout', string.rep('x', 65))", "a mark's name has 1 to 64 bytes"),
        ("sentinel.mark('nowhere', 'step')", "no pipeline named 'nowhere'"),
        ("sentinel.since('checkout', 5)", "string expected"),
        ("for i = 1, 65 do sentinel.mark('checkout', 'm' .. i) end", "too many marks (64)"),
        (
            "sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', since = 'step' }",
            "no mark 'step' on pipeline 'checkout' (sentinel.mark first)"
        ),
        (
            "sentinel.mark('checkout', 'step'); sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', since = 'step', window = '1m' }",
            "give 'window' or 'since', not both"
        ),
    ]

    static let badSequentialCalls: [(String, String)] = [
        (
            "sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', mode = 'sequential' }",
            "mode \"sequential\" judges everything since a mark: give since = NAME (sentinel.mark)"
        ),
        (
            "sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', mode = 'sprt' }",
            "mode must be \"fixed\" or \"sequential\", got \"sprt\""
        ),
        (
            "sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', mode = 'sequential', since = 'x' }",
            "no mark 'x' on pipeline 'checkout'"
        ),
        (
            "sentinel.mark('checkout', 's'); sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', mode = 'sequential', since = 's', criteria = { p50 = { absolute = 0.02 } } }",
            "criteria.p50: in mode \"sequential\" a latency tolerance is relative"
        ),
        (
            "sentinel.mark('checkout', 's'); sentinel.compare{ pipeline = 'checkout', candidate = 'canary', reference = 'stable', mode = 'sequential', since = 's', criteria = { error_rate = false, timeout_rate = false, rejection_rate = false, p99 = false } }",
            "criteria: nothing to judge in mode \"sequential\""
        ),
    ]

    @Test(arguments: badCalls + badSequentialCalls)
    func badArgumentsRaiseAndNameTheMistake(call: String, message: String) async throws {
        let fixture = try Fixture()
        let engine = ScriptEngine(plane: fixture.plane, logger: .silent)
        let result = await engine.load(
            path: "p/bad.lua", source: "return { interval = \"10s\", evaluate = function(state) \(call) end }")
        #expect(throws: ScriptFailure.self) { try result.get() }
        if case .failure(let error) = result {
            #expect(error.message.contains(message), "\(call): \(error.message)")
        }
    }
}
