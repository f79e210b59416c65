import Resilience
import Sentinel
import Testing

@testable import Simulation

/// What `simulate` shows of a rule's reasoning (its `sentinel.log` lines and
/// `sentinel.decision`s) and of the calls (failure, timeout, rejection and
/// slow-call counts in `stats` and the summary).
@Suite struct SimulationOutputTests {
    /// A rule that logs every evaluation, rolls the canary back at its third
    /// and raises at its fourth, having logged and decided first.
    static let judge = """
        return { name = "judge", interval = "10s", evaluate = function(state, memory)
          memory.n = (memory.n or 0) + 1
          local canary = state.pipelines.api.variants.canary.windows["1m"]
          sentinel.log("info", "evaluation " .. memory.n)
          sentinel.log("debug", "canary calls " .. canary.calls)
          if memory.n == 3 then
            sentinel.decision{ action = "rollback", subject = "api.canary", verdict = "regression",
                               reason = "errors high", evidence = { error_rate = 0.5 } }
            sentinel.set("api.split.canary_weight", 0, "errors high")
            sentinel.alert("warning", "rolled back")
          elseif memory.n == 4 then
            sentinel.log("error", "about to fail")
            sentinel.decision{ action = "hold", subject = "api.canary" }
            error("boom")
          end
        end }
        """

    static let canary = """
        name: decide
        duration: 1m
        seed: 3
        sample: 30s
        pipelines:
          api:
            policies:
              - split: { stable: 90, canary: 10 }
            backends:
              stable: { latency: 20ms }
              canary: { latency: 20ms, error_rate: 0.5 }
            traffic: { rate: 50, keys: 100 }
        """

    // MARK: - Log lines and decisions

    @Test func logLinesAndDecisionsAreEventsBeforeTheCommandsOfTheirEvaluation() async throws {
        let run = try await simulate(Self.canary, scripts: ["judge.lua": Self.judge])
        let logs = run.events("log")
        #expect(logs.filter { $0["level"] == "info" }.map(\.t) == [10, 20, 30, 50, 60], "none at 40, where evaluate raised")
        #expect(logs.filter { $0["level"] == "debug" }.count == 5)
        #expect(
            run.json.contains("{\"level\":\"info\",\"message\":\"evaluation 3\",\"script\":\"judge\",\"t\":30.0,\"type\":\"log\"}"))
        let decisions = run.events("decision")
        #expect(decisions.count == 1)
        #expect(
            decisions.first?.json
                == "{\"action\":\"rollback\",\"dry_run\":false,\"evidence\":{\"error_rate\":0.5},\"reason\":\"errors high\","
                + "\"script\":\"judge\",\"subject\":\"api.canary\",\"t\":30.0,\"type\":\"decision\",\"verdict\":\"regression\"}")
        // Within one evaluation round: what the rule wrote and decided, then the commands, then the alerts.
        let atRollback = run.events.filter { $0.t == 30 && $0.type != "stats" }.map(\.type)
        #expect(atRollback == ["log", "log", "decision", "command", "alert"])
        let command = try #require(run.events("command").first)
        #expect(command["outcome"] == "applied" && command["to"] == .double(0))
        // Existing events keep their fields: a command event still has no `decision` or log fields.
        #expect(Set(command.fields.keys) == ["actor", "action", "args", "outcome", "target", "reason", "from", "to"])
    }

    @Test func anEvaluationThatRaisesEmitsNeitherItsLogLinesNorItsDecisions() async throws {
        let run = try await simulate(Self.canary, scripts: ["judge.lua": Self.judge])
        let atFailure = run.events.filter { $0.t == 40 && $0.type != "stats" }
        #expect(atFailure.map(\.type) == ["script"])
        #expect(atFailure.first?["outcome"] == "failed")
        #expect(!run.events("log").contains { $0["message"] == "about to fail" })
        #expect(!run.events("decision").contains { $0["action"] == "hold" })
    }

    @Test func theTimelineShowsLogLinesAndDecisionsWithTheirScript() async throws {
        let run = try await simulate(Self.canary, scripts: ["judge.lua": Self.judge])
        let scenario = try Scenario(yaml: Self.canary)
        var renderer = TimelineRenderer()
        let text = run.events.flatMap { renderer.lines(for: $0, scenario: scenario) }.joined(separator: "\n")
        #expect(text.contains("    0:30  › log [info] judge: evaluation 3\n"))
        #expect(text.contains("    0:30  ⇒ rollback api.canary (regression)            judge: errors high\n"))
        #expect(text.contains("    0:30  ▼ api.split.canary_weight 10 → 0"))
        #expect(!text.contains("canary calls"), "debug lines are in the JSON Lines only")
        #expect(!text.contains("about to fail"))
        var verbose = TimelineRenderer(showDebugLogs: true)
        let all = run.events.flatMap { verbose.lines(for: $0, scenario: scenario) }.joined(separator: "\n")
        #expect(all.contains("› log [debug] judge: canary calls"))
    }

    @Test func logLinesAndDecisionsAreTheSameForTheSameSeed() async throws {
        // One folder for both runs: the failed evaluation's reason names the script's path.
        let folder = try ScriptFolder(["judge.lua": Self.judge])
        defer { folder.remove() }
        let scenario = try Scenario(yaml: Self.canary, file: "decide.yaml")
        let first = try await simulate(scenario, policies: folder.path)
        let second = try await simulate(scenario, policies: folder.path)
        #expect(first.json == second.json)
        #expect(first.events("log").count == 10 && first.events("decision").count == 1)
    }

    @Test func theReportListsDecisionsButNotLogLines() async throws {
        let folder = try ScriptFolder(["judge.lua": Self.judge])
        defer { folder.remove() }
        let simulation = try Simulation(
            scenario: try Scenario(yaml: Self.canary, file: "decide.yaml"), policies: folder.path, logger: .silent)
        simulation.recordForReport()
        _ = try await simulation.run { _ in }
        let recording = try #require(simulation.recording)
        #expect(!recording.decisions.contains { $0.type == "log" })
        let decision = try #require(recording.decisions.first { $0.type == "decision" })
        let html = HTMLReport(recording).html
        let row = try #require(HTMLReport(recording).decisionList().first { $0.event.type == "decision" })
        #expect(row.kind == .rolledBack && row.pipelines == ["api"])
        #expect(html.contains("<tr id=\"\(row.anchor)\" class=\"decision decision-rolled-back\">"))
        #expect(html.contains("<span class=\"kind\">decision</span><br><code>rollback api.canary</code>"))
        #expect(html.contains("class=\"mark mark-rolled-back\""))
        #expect(decision["reason"] == "errors high")
        #expect(!html.contains("evaluation 3"))
    }

    @Test func decisionMarksReuseTheKindsOfWhatTheyDecide() {
        func kind(_ action: String, dryRun: Bool = false) -> ReportDecision {
            ReportDecision(
                index: 0,
                event: SimulationEvent(
                    type: "decision", t: 30,
                    fields: [
                        "action": .string(action), "subject": "api.split.canary_weight", "verdict": "healthy", "reason": "why",
                        "evidence": ["calls": 10], "script": "canary", "dry_run": .bool(dryRun),
                    ]),
                knobNames: ["api.split.canary_weight"], pipelineNames: ["api"])
        }
        #expect(kind("rollback").kind == .rolledBack)
        #expect(kind("promote").kind == .promoted)
        #expect(kind("hold").kind == .command)
        #expect(kind("advance").kind == .raised)
        #expect(kind("rollback", dryRun: true).kind == .dryRun && kind("rollback", dryRun: true).label == "decision (dry run)")
        let decision = kind("advance")
        #expect(decision.label == "decision" && decision.headline == "advance api.split.canary_weight")
        #expect(decision.actor == "script:canary" && decision.outcome == "healthy" && decision.reason == "why")
        #expect(decision.evidence == ["calls": 10] && decision.change.isEmpty)
        #expect(decision.knobs == ["api.split.canary_weight"] && decision.pipelines == ["api"])
        #expect(decision.summaryLine(duration: 60) == "0:30  decision: advance api.split.canary_weight (healthy) — script:canary: why")
    }

    // MARK: - Counts

    static let busy = """
        duration: 2m
        seed: 9
        sample: 20s
        slow_call: 200ms
        pipelines:
          api:
            policies:
              - timeout: { duration: 300ms }
              - bulkhead: { max_concurrent: 8 }
              - split: { stable: 70, canary: 30 }
            backends:
              stable: { latency: { distribution: bimodal, fast: 20ms, slow: 1s, slow_fraction: 0.1 }, error_rate: 0.02 }
              canary: { latency: { distribution: uniform, min: 10ms, max: 400ms }, error_rate: 0.05 }
            traffic: { rate: 60, keys: 500 }
        """

    @Test func statsCountFailuresTimeoutsRejectionsAndSlowCallsThatAddUpToTheSummary() async throws {
        let run = try await simulate(Self.busy)
        let summary = try #require(run.events.last)
        let stats = run.events("stats")
        #expect(stats.count == 6 * 3)
        for stat in stats {
            let calls = try #require(stat["calls"]?.double), failures = try #require(stat["failures"]?.double)
            let timeouts = try #require(stat["timeouts"]?.double), rejections = try #require(stat["rejections"]?.double)
            #expect(stat["error_rate"]?.double == (calls > 0 ? failures / calls : 0))
            #expect(timeouts + rejections <= failures && failures <= calls && (stat["slow_calls"]?.double ?? -1) <= calls)
        }
        for name in ["api", "api.stable", "api.canary"] {
            let mine = stats.filter { stat in
                let variant = stat["variant"]?.stringValue
                return (variant.map { "api.\($0)" } ?? "api") == name
            }
            for field in ["calls", "failures", "timeouts", "rejections", "slow_calls"] {
                let total = mine.reduce(0.0) { $0 + ($1[field]?.double ?? 0) }
                #expect(total == summary[field]?.objectValue?[name]?.double, "\(field) of \(name)")
            }
        }
        let totals = try #require(summary["failures"]?.objectValue)
        #expect(totals["api"]?.double == Double(run.report.failures["api"] ?? -1))
        #expect((run.report.timeouts["api"] ?? 0) > 0 && (run.report.rejections["api"] ?? 0) > 0)
        #expect(run.report.slowCalls["api"] == (run.report.slowCalls["api.stable"] ?? 0) + (run.report.slowCalls["api.canary"] ?? 0))
        #expect(summary["slow_call"] == .double(0.2))
    }

    @Test func theTimelineSummaryShowsFailuresAndSlowCalls() async throws {
        let run = try await simulate(Self.busy)
        var renderer = TimelineRenderer()
        let lines = renderer.lines(for: try #require(run.events.last), scenario: try Scenario(yaml: Self.busy))
        let failed = formatCount(run.report.failures["api.canary"] ?? -1)
        let slow = formatCount(run.report.slowCalls["api.canary"] ?? -1)
        #expect(lines.contains { $0.hasPrefix("  api.canary ") && $0.hasSuffix(" errors · \(failed) failed · \(slow) slow") }, "\(lines)")
        #expect(lines.contains("  slow: calls that took 200ms or more (the scenario's slow_call)"))
    }

    /// Every slow attempt outlives the timeout, so the calls of at least
    /// `slow_call` are exactly the timed-out ones, which the observer's windows
    /// count on their own (read by a rule and logged once traffic has stopped).
    static let slowCalls = """
        duration: 5m
        seed: 4
        slow_call: 1s
        pipelines:
          api:
            policies:
              - timeout: { duration: 1500ms }
            backend: { latency: { distribution: bimodal, fast: 10ms, slow: 5s, slow_fraction: 0.2 } }
            traffic: { rate: 20 }
        events:
          - at: 4m
            traffic: api
            set: { rate: 0 }
        """

    static let counter = """
        return { name = "count", interval = "10s", evaluate = function(state, memory)
          if state.now >= 250 and not memory.done then
            memory.done = true
            local w = state.pipelines.api.windows["15m"]
            sentinel.log("info", string.format("calls=%d timeouts=%d", w.calls, w.timeouts))
          end
        end }
        """

    @Test func theSlowCallCountMatchesAnIndependentCountOfAKnownDistribution() async throws {
        let run = try await simulate(Self.slowCalls, scripts: ["count.lua": Self.counter])
        let observed = try #require(run.events("log").first?["message"]?.stringValue)
        let calls = try #require(run.report.calls["api"]), slow = try #require(run.report.slowCalls["api"])
        #expect(observed == "calls=\(calls) timeouts=\(slow)")
        #expect(run.report.timeouts["api"] == slow)
        #expect(abs(Double(slow) / Double(calls) - 0.2) < 0.03, "\(slow) of \(calls)")
        // Above the timeout no call is slow; under the fastest one, all are.
        let none = try await simulate(Self.slowCalls.replacingOccurrences(of: "slow_call: 1s", with: "slow_call: 2s"))
        #expect(none.report.slowCalls["api"] == 0 && (none.report.calls["api"] ?? 0) > 4000)
        let all = try await simulate(Self.slowCalls.replacingOccurrences(of: "slow_call: 1s", with: "slow_call: 10ms"))
        #expect(all.report.slowCalls["api"] == all.report.calls["api"])
        // Uniform latencies from 0 to 2 s: half of them take a second or more.
        let uniform = try await simulate(
            Self.slowCalls.replacingOccurrences(
                of: "{ distribution: bimodal, fast: 10ms, slow: 5s, slow_fraction: 0.2 }",
                with: "{ distribution: uniform, min: 0s, max: 2s }"
            ).replacingOccurrences(of: "duration: 1500ms", with: "duration: 1h"))
        let fraction = Double(uniform.report.slowCalls["api"] ?? 0) / Double(uniform.report.calls["api"] ?? 1)
        #expect(abs(fraction - 0.5) < 0.03, "\(fraction)")
    }

    @Test func slowCallIsADurationWithinItsRange() throws {
        let base = "duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms }\n    traffic: { rate: 1 }\n"
        #expect(try Scenario(yaml: base).slowCall == 1)
        #expect(try Scenario(yaml: "slow_call: 250ms\n" + base).slowCall == 0.25)
        #expect(parseError("slow_call: 0\n" + base)?.hasPrefix("bad.yaml:1: slow_call: 0s is out of range") == true)
        #expect(parseError("slow_call: 2d\n" + base)?.hasPrefix("bad.yaml:1: slow_call: ") == true)
        #expect(
            parseError("slow_call: soon\n" + base)
                == "bad.yaml:1: slow_call: expected a duration like \"250ms\", \"5s\", \"2m\", got \"soon\"")
        #expect(parseError("slow_call: -1s\n" + base) == "bad.yaml:1: slow_call: a duration cannot be negative")
    }
}
