import Resilience
import Sentinel
import Testing

@testable import Simulation

@Suite struct SimulationRunTests {
    static let rule = """
        return {
          name = "shed",
          interval = "5s",
          evaluate = function(state, memory)
            local w = state.pipelines.api.windows["10s"]
            if w.calls >= 20 and w.error_rate > 0.3 and state.params["api.retry.max_attempts"].value > 1 then
              sentinel.set("api.retry.max_attempts", 1, { reason = "errors high", evidence = { error_rate = w.error_rate } })
            end
          end,
        }
        """

    static let outage = """
        name: outage
        duration: 2m
        seed: 5
        sample: 30s
        pipelines:
          api:
            policies:
              - timeout: { duration: 1s }
              - retry: { max_attempts: 3, base_delay: 10ms, jitter: full, budget_ratio: none }
            backend: { latency: { distribution: lognormal, p50: 20ms, p99: 100ms }, error_rate: 0.01 }
            traffic: { rate: 100, keys: 50 }
        events:
          - at: 1m
            backend: api
            set: { error_rate: 0.8 }
        expect:
          - param: api.retry.max_attempts
            equals: 1
          - param_max: api.retry.max_attempts
            equals: 3
          - audit: { action: param.set, target: api.retry.max_attempts, actor: "script:shed", outcome: applied }
            count_equals: 1
          - calls: api
            between: [11000, 13000]
        """

    @Test func aRuleReactsToABackendChangeAndTheAuditSaysFromAndTo() async throws {
        let run = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule])
        #expect(run.report.passed, "\(run.report.results)")
        let commands = run.events("command")
        #expect(commands.count == 1)
        let command = try #require(commands.first)
        #expect(command.t > 60 && command.t <= 75)
        #expect(command["from"] == .double(3) && command["to"] == .double(1))
        #expect(command["actor"] == .string("script:shed") && command["reason"] == .string("errors high"))
        #expect(run.events("event").first?["target"] == .string("api"))
        #expect(run.events("script").first?["action"] == .string("script.load"))
        #expect(run.events("stats").map(\.t) == [30, 60, 90, 120])
        let summary = try #require(run.events.last)
        #expect(summary.type == "summary" && summary.t == 120 && summary["passed"] == .bool(true))
        guard case .object(let knobs)? = summary["knobs"] else { Issue.record("no knobs"); return }
        #expect(knobs["api.retry.max_attempts"] == .double(1))
        #expect(knobs["api.timeout.duration"] == .double(1))
    }

    @Test func oneSeedOneResultByteForByte() async throws {
        let first = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule])
        let second = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule])
        #expect(first.json == second.json)
        let other = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule], seed: 6)
        #expect(other.json != first.json)
        #expect(other.report.seed == 6)
        #expect(other.events.first?["seed"] == .int(6))
    }

    @Test func aFailedExpectationShowsTheActualValue() async throws {
        let yaml = Self.outage.replacingOccurrences(of: "between: [11000, 13000]", with: "at_most: 100")
        let run = try await simulate(yaml, scripts: ["shed.lua": Self.rule])
        #expect(!run.report.passed)
        let failed = try #require(run.report.results.first { !$0.passed })
        #expect(failed.assertion == "calls api at most 100")
        #expect((failed.actual.double ?? 0) > 11000)
        var renderer = TimelineRenderer()
        let lines = renderer.lines(for: try #require(run.events.last), scenario: try Scenario(yaml: yaml))
        #expect(lines.contains { $0.contains("✗ calls api at most 100 (actual") })
        #expect(lines.last?.hasPrefix("FAILED 1 of 4") == true)
    }

    @Test func aTimeoutCutsSlowAttemptsAndRetriesThem() async throws {
        let run = try await simulate(
            """
            duration: 1m
            pipelines:
              api:
                policies:
                  - retry: { max_attempts: 2, base_delay: 1ms, jitter: none, budget_ratio: none }
                  - timeout: { duration: 100ms }
                backend: { latency: { distribution: bimodal, fast: 10ms, slow: 500ms, slow_fraction: 0.5 } }
                traffic: { rate: 50 }
            expect:
              - error_rate: api
                between: [0.2, 0.3]
            """)
        // Each attempt times out half the time; two attempts both time out a quarter of the time.
        #expect(run.report.passed, "\(run.report.results)")
    }

    @Test func aBackendAtCapacityQueuesAndThenOverloads() async throws {
        // 200 req/s against 10 slots of 100 ms (100 req/s): half the requests cannot be served.
        let run = try await simulate(
            """
            duration: 1m
            pipelines:
              api:
                policies: [ { timeout: { duration: 2s } } ]
                backend: { latency: 100ms, capacity: 10, queue_limit: 20 }
                traffic: { rate: 200 }
            expect:
              - error_rate: api
                between: [0.45, 0.55]
            """)
        #expect(run.report.passed, "\(run.report.results)")
    }

    @Test func theBulkheadQueueHandsPermitsInOrder() async throws {
        let run = try await simulate(
            """
            duration: 1m
            pipelines:
              api:
                policies: [ { bulkhead: { max_concurrent: 5, max_queued: 100, queue_timeout: 50ms } } ]
                backend: { latency: 100ms }
                traffic: { rate: 100 }
            expect:
              - calls: api
                between: [5500, 6500]
              - error_rate: api
                between: [0.4, 0.6]
            """)
        // 5 permits of 100 ms serve 50 req/s of the 100: the rest give up after 50 ms in the queue.
        #expect(run.report.passed, "\(run.report.results)")
    }

    @Test func theBreakerOpensDuringAnOutageAndClosesAfter() async throws {
        let yaml = """
            duration: 3m
            pipelines:
              api:
                policies: [ { breaker: { failure_rate: 0.5, minimum_calls: 20, window: 50, open_duration: 5s, half_open_calls: 2 } } ]
                backend: { latency: 5ms }
                traffic: { rate: 50 }
            events:
              - at: 1m
                backend: api
                set: { error_rate: 1 }
              - at: 2m
                backend: api
                set: { error_rate: 0 }
            expect:
              - breaker: api
                equals: closed
            """
        let run = try await simulate(yaml)
        #expect(run.report.passed, "\(run.report.results)")
        let failing = try await simulate(yaml.replacingOccurrences(of: "set: { error_rate: 0 }", with: "set: { error_rate: 1 }"))
        #expect(failing.report.results.first?.actual == .string("open"))
    }

    @Test func viaSendsCallsThroughAnotherPipelineWithItsOwnPolicies() async throws {
        let run = try await simulate(
            """
            duration: 2m
            pipelines:
              edge:
                policies: [ { split: { primary: 100, secondary: 0 } } ]
                backends:
                  primary: { via: east }
                  secondary: { via: west }
                traffic: { rate: 50 }
              east:
                policies: [ { breaker: { failure_rate: 0.5, minimum_calls: 10, window: 20, open_duration: 1m } } ]
                backend: { latency: 20ms }
              west:
                backend: { latency: 30ms }
            events:
              - at: 1m
                backend: east
                set: { error_rate: 1 }
              - at: 90s
                command: param.set
                args: { param: edge.split.secondary_weight, value: 100 }
              - at: 90s
                command: param.set
                args: { param: edge.split.primary_weight, value: 0 }
            expect:
              - breaker: east
                equals: open
              - audit: { actor: "operator:scenario", outcome: applied }
                count_equals: 2
              - calls: west
                between: [1200, 1800]
            """)
        #expect(run.report.passed, "\(run.report.results)")
        let east = run.report.calls["east"] ?? 0
        let edge = run.report.calls["edge"] ?? 0
        #expect(east + (run.report.calls["west"] ?? 0) == edge)
        // Once east's breaker opened, edge's calls through it fail at once.
        #expect(Double(run.report.failures["edge"] ?? 0) / Double(edge) > 0.1)
    }

    @Test func trafficChangesTakeEffectAtTheirInstant() async throws {
        let run = try await simulate(
            """
            duration: 2m
            sample: 1m
            pipelines:
              api:
                backend: { latency: 1ms }
                traffic: { rate: 0.001 }
            events:
              - at: 1m
                traffic: api
                set: { rate: 100 }
            """)
        let stats = run.events("stats").map { Int($0["calls"]?.double ?? -1) }
        #expect(stats.count == 2 && stats[0] <= 1 && stats[1] > 5000, "\(stats)")
    }

    @Test func aScriptThatFailsToLoadIsReportedAndTheOthersRun() async throws {
        let run = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule, "broken.lua": "return {"])
        let failures = run.events("script").filter { $0["outcome"] == .string("failed") }
        #expect(failures.count == 1)
        #expect(run.report.passed)
    }

    @Test func theTimelineSaysWhatChangedAndWhy() async throws {
        let run = try await simulate(Self.outage, scripts: ["shed.lua": Self.rule])
        let scenario = try Scenario(yaml: Self.outage)
        var renderer = TimelineRenderer()
        let text = run.events.flatMap { renderer.lines(for: $0, scenario: scenario) }.joined(separator: "\n")
        #expect(text.contains("Sentinel simulation · outage"))
        #expect(text.contains("● script shed loaded"))
        #expect(text.contains("⚡ backend api error_rate=0.8"))
        #expect(text.contains("▼ api.retry.max_attempts 3 → 1"))
        #expect(text.contains("shed: errors high"))
        #expect(text.contains("PASSED all 4 expectations"))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")
    }
}
