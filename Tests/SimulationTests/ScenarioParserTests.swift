import Resilience
import Sentinel
import Testing

@testable import Simulation

@Suite struct ScenarioParserTests {
    static let complete = """
        name: complete
        description: every field
        duration: 1h
        seed: 7
        start: "2026-03-01T12:00:00Z"
        policies: rules
        sample: 10s
        control:
          guards:
            - params: "checkout.split.*"
              max_step_up: 25
        pipelines:
          checkout:
            policies:
              - timeout: { duration: 500ms, mode: cooperative }
              - retry: { max_attempts: 2, base_delay: 50ms, max_delay: 1s, backoff: linear, jitter: none, budget_ratio: none }
              - breaker: { failure_rate: 0.4, minimum_calls: 30, window: 30s, open_duration: 10s, half_open_calls: 3 }
              - bulkhead: { max_concurrent: 20, max_queued: 10, queue_timeout: 100ms }
              - ratelimit: { rate: 800, burst: 50 }
              - split: { stable: 90, canary: 10 }
            backends:
              stable: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.01, capacity: 100, queue_limit: 50 }
              canary: { latency: { distribution: bimodal, fast: 20ms, slow: { distribution: uniform, min: 1s, max: 2s }, slow_fraction: 0.05 } }
            traffic: { rate: 300, pattern: diurnal, period: 1h, amplitude: 0.5, keys: 100 }
        events:
          - at: 20m
            traffic: checkout
            set: { rate: 600 }
          - at: 10m
            backend: checkout.canary
            set: { error_rate: 0.2 }
          - at: 10m
            command: param.set
            args: { param: checkout.retry.max_attempts, value: 1 }
            reason: shed retries
        expect:
          - param: checkout.split.canary_weight
            between: [0, 100]
          - audit: { action: param.set, actor: "operator:scenario" }
            count_equals: 1
          - breaker: checkout
            equals: closed
          - error_rate: checkout.canary
            at_most: 0.5
        """

    @Test func readsEveryField() throws {
        let scenario = try Scenario(yaml: Self.complete, file: "complete.yaml")
        #expect(scenario.name == "complete")
        #expect(scenario.duration == 3600)
        #expect(scenario.seed == 7)
        #expect(scenario.start == 1_772_366_400)
        #expect(scenario.policies == "rules")
        #expect(scenario.sample == 10)
        #expect(scenario.control.guards != GuardPolicy())
        let checkout = try #require(scenario.pipelines.first)
        #expect(checkout.components.map(\.policyName) == ["timeout", "retry", "breaker", "bulkhead", "ratelimit", "split"])
        #expect(checkout.variants == ["stable", "canary"])
        guard case .perVariant(let backends) = checkout.backends else { Issue.record("expected per-variant backends"); return }
        #expect(backends.map(\.variant) == ["stable", "canary"])
        #expect(backends[0].backend.capacity == 100 && backends[0].backend.queueLimit == 50)
        #expect(backends[1].backend.latency == .bimodal(fast: .fixed(0.02), slow: .uniform(min: 1, max: 2), slowFraction: 0.05))
        #expect(checkout.traffic == TrafficSpec(rate: 300, pattern: .diurnal(period: 3600, amplitude: 0.5), keys: 100))
        // Events sorted by time, ties in file order; a `set` merges into the settings before it.
        #expect(scenario.events.map(\.at) == [600, 600, 1200])
        guard case .backend(let target, let spec) = scenario.events[0].change else { Issue.record("expected a backend event"); return }
        #expect(target == "checkout.canary" && spec.errorRate == 0.2 && spec.latency == backends[1].backend.latency)
        guard case .command(let name, let arguments, let reason) = scenario.events[1].change else {
            Issue.record("expected a command"); return
        }
        #expect(name == "param.set" && arguments["value"] == .int(1) && reason == "shed retries")
        guard case .traffic(_, let traffic) = scenario.events[2].change else { Issue.record("expected a traffic event"); return }
        #expect(traffic.rate == 600 && traffic.pattern == .diurnal(period: 3600, amplitude: 0.5) && traffic.keys == 100)
        #expect(
            scenario.expectations.map(\.assertion) == [
                "param checkout.split.canary_weight between 0 and 100",
                "audit count (action=param.set actor=operator:scenario) equals 1",
                "breaker checkout equals closed",
                "error_rate checkout.canary at most 0.5",
            ])
    }

    @Test func nameAndSeedDefault() throws {
        let scenario = try Scenario(
            yaml: """
                duration: 90
                pipelines:
                  api: { backend: { latency: 10ms }, traffic: { rate: 5 } }
                """, file: "some/dir/my-run.yaml")
        #expect(scenario.name == "my-run")
        #expect(scenario.seed == 1)
        #expect(scenario.policies == ".")
        #expect(scenario.sample == 60)
    }

    static let minimal = """
        duration: 10m
        pipelines:
          checkout:
            policies:
              - split: { stable: 100, canary: 0 }
            backends:
              stable: { latency: 40ms }
              canary: { latency: 40ms }
            traffic: { rate: 100 }
        """

    /// Bad input: the error names the file, the line and the field.
    @Test(arguments: [
        (
            "duration: 10m\npipelines:\n  checkout:\n    backend: { latency: 40ms, error_rate: 1.5 }\n    traffic: { rate: 1 }\n",
            "bad.yaml:4: pipelines.checkout.backend.error_rate: expected a number between 0 and 1, got 1.5"
        ),
        ("pipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n", "a scenario needs 'duration'"),
        ("duration: soon\npipelines: {}\n", "duration: expected a duration like"),
        ("duration: 1m\npipelines: {}\n", "at least one pipeline"),
        ("duration: 1m\ncolour: red\npipelines: {}\n", "bad.yaml:2: colour: unknown field"),
        (
            "duration: 1m\npipelines:\n  a:\n    policies: [ { hedge: {} } ]\n    backend: { latency: 1ms }\n    traffic: { rate: 1 }\n",
            "unknown policy hedge"
        ),
        (
            "duration: 1m\npipelines:\n  a:\n    policies: [ { timeout: { duration: 1s }, retry: {} } ]\n    backend: { latency: 1ms }\n    traffic: { rate: 1 }\n",
            "one-key map"
        ),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { latency: { distribution: lognormal, p50: 200ms, p99: 40ms } }\n    traffic: { rate: 1 }\n",
            "p99 (40ms) is below p50 (200ms)"
        ),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { latency: { distribution: normal, value: 1ms } }\n    traffic: { rate: 1 }\n",
            "unknown distribution \"normal\""
        ),
        ("duration: 1m\npipelines:\n  a:\n    backend: { error_rate: 0.1 }\n    traffic: { rate: 1 }\n", "a backend needs 'latency'"),
        ("duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms }\n", "needs 'traffic' unless another one reaches it"),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms }\n    traffic: { rate: 1, to: 5 }\n",
            "pattern fields need 'pattern'"
        ),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms }\n    traffic: { rate: 1, pattern: ramp }\n",
            "pattern ramp needs 'to'"
        ),
        ("duration: 1m\npipelines:\n  a:\n    backend: { latency: 1ms }\n    traffic: { rate: -3 }\n", "expected requests per second"),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { via: b }\n    traffic: { rate: 1 }\n  b:\n    backend: { via: a }\n",
            "via makes a cycle"
        ),
        (
            "duration: 1m\npipelines:\n  a:\n    backend: { via: nowhere }\n    traffic: { rate: 1 }\n",
            "via nowhere: no pipeline of that name"
        ),
        ("duration: 1m\npipelines:\n  a:\n    backends: { x: { latency: 1ms } }\n    traffic: { rate: 1 }\n", "this pipeline has no split"),
        (
            "duration: 1m\npipelines:\n  a:\n    policies: [ { split: { x: 50, y: 50 } } ]\n    backends: { x: { latency: 1ms } }\n    traffic: { rate: 1 }\n",
            "the split variant y has no backend"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nevents:\n  - at: 2m\n    traffic: a\n    set: { rate: 2 }\n",
            "bad.yaml:5: events[1].at: 2m is after the end of the run (1m)"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nevents:\n  - at: 2s\n    backend: a.canary\n    set: { error_rate: 1 }\n",
            "no backend a.canary"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nexpect:\n  - calls: b\n    at_least: 1\n",
            "no pipeline b"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nexpect:\n  - breaker: a\n    equals: closed\n",
            "pipeline a has no breaker"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nexpect:\n  - calls: a\n",
            "add equals, at_least, at_most or between"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nexpect:\n  - audit: { action: param.set }\n    at_least: 1\n",
            "use count_equals, count_at_least or count_at_most"
        ),
        (
            "duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\nexpect:\n  - audit: { outcome: great }\n    count_equals: 1\n",
            "expected one of applied"
        ),
        (
            "duration: 1m\nstart: yesterday\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n",
            "expected an RFC 3339 time"
        ),
        ("duration: 1m\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n: [\n", "not valid YAML"),
        (
            "duration: 1m\nconstants:\n  canary: { REQUIRE_APPROVAL: true }\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n",
            "bad.yaml:3: constants.canary: expected a script's file name in the policies folder, such as canary.lua"
        ),
        (
            "duration: 1m\nconstants:\n  canary.lua: { 2FAST: true }\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n",
            "bad.yaml:3: constants.canary.lua.2FAST: \"2FAST\" is not a Lua name"
        ),
        (
            "duration: 1m\nconstants:\n  canary.lua: { STEPS: [1, 50, 100] }\npipelines:\n  a: { backend: { latency: 1ms }, traffic: { rate: 1 } }\n",
            "bad.yaml:3: constants.canary.lua.STEPS: expected true, false, a number or a string, got [1,50,100]"
        ),
    ])
    func badInputIsNamed(yaml: String, message: String) {
        let error = parseError(yaml)
        #expect(error?.contains(message) == true, "got: \(error ?? "no error")")
    }

    @Test func aPolicySettingOutOfBoundsIsRefusedWhenReadNamingTheFieldAndTheKnob() throws {
        // Checked at parse time against the knob's bounds, not discovered when the run builds the pipeline.
        #expect {
            _ = try Scenario(
                yaml: """
                    duration: 1m
                    pipelines:
                      a:
                        policies: [ { retry: { max_attempts: 500 } } ]
                        backend: { latency: 1ms }
                        traffic: { rate: 1 }
                    """, file: "bad.yaml")
        } throws: { error in
            "\(error)".hasPrefix("bad.yaml:4: pipelines.a.policies[1].retry.max_attempts:") && "\(error)".contains("a.retry.max_attempts")
        }
    }

    @Test func anExpectationAboutAnUnknownKnobIsAnError() throws {
        let scenario = try Scenario(
            yaml: Self.minimal + "\nexpect:\n  - param: checkout.split.canary_wieght\n    equals: 1\n", file: "bad.yaml")
        let folder = try ScriptFolder()
        defer { folder.remove() }
        #expect {
            _ = try Simulation(scenario: scenario, policies: folder.path, logger: .silent)
        } throws: { error in
            "\(error)".contains("bad.yaml:11: expect[1]: no knob named checkout.split.canary_wieght")
        }
    }

    @Test func aMissingPoliciesFolderIsAnError() async throws {
        let scenario = try Scenario(yaml: Self.minimal, file: "x.yaml")
        let simulation = try Simulation(scenario: scenario, policies: "/nonexistent/rules", logger: .silent)
        await #expect(throws: ConfigurationError.self) {
            _ = try await simulation.run { _ in }
        }
    }
}
