import Resilience
import Sentinel
import Testing

@testable import Simulation

/// A scenario's `fleet`: instances sharing the traffic, one leader deciding on
/// the statistics merged from their slices, its decisions applied by all, a
/// failover when it dies.
@Suite struct SimulatedFleetTests {
    static func scenario(
        instances: Int = 10, rate: Int = 100, duration: String = "3m", fleetExtra: String = "", events: String = ""
    ) -> String {
        """
        name: fleet
        duration: \(duration)
        seed: 7
        sample: 10s
        fleet:
          instances: \(instances)
        \(fleetExtra)
        pipelines:
          checkout:
            policies:
              - timeout: { duration: 2s }
              - split: { stable: 90, canary: 10 }
            backends:
              stable: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.01 }
              canary: { latency: 40ms, error_rate: 0.01 }
            traffic: { rate: \(rate) }
        \(events)
        """
    }

    /// Logs, every 10 s, what a rule on the leader reads of the fleet.
    static let reader = """
        return {
          interval = "10s",
          evaluate = function(state)
            local p = state.pipelines.checkout
            local sum, views, worst, worstRate = 0, 0, "none", -1
            for id, view in pairs(p.instances or {}) do
              local w = view.variants.canary.windows["10s"]
              sum = sum + view.windows["10s"].calls
              views = views + 1
              if w.calls > 0 and w.error_rate > worstRate then worst, worstRate = id, w.error_rate end
            end
            local absent = {}
            for _, id in ipairs(state.fleet.absent or {}) do absent[#absent + 1] = id end
            table.sort(absent)
            sentinel.log("info", string.format(
              "instances=%d leader=%s term=%d slice=%s merged=%d sum=%d views=%d worst=%s absent=%s",
              state.fleet.instances, tostring(state.fleet.leader), state.fleet.term, tostring(state.fleet.slice),
              p.windows["10s"].calls, sum, views, worst, table.concat(absent, ",")))
          end
        }
        """

    /// The `key=value` fields of the reader's log lines, with their time.
    static func readings(_ run: Run) -> [(t: Double, fields: [String: String])] {
        run.events("log").compactMap { event in
            guard case .string(let message)? = event["message"] else { return nil }
            var fields: [String: String] = [:]
            for pair in message.split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            return (event.t, fields)
        }
    }

    // MARK: - Parsing

    @Test func parsesAFleetItsOverridesAndItsEvents() throws {
        let yaml = Self.scenario(
            fleetExtra: """
                  lease: 3s
                  overrides:
                    - instance: 4
                      backend: checkout.canary
                      set: { error_rate: 0.25 }
                """,
            events: """
                events:
                  - at: 1m
                    kill: leader
                  - at: 2m
                    backend: checkout.stable
                    instance: 2
                    set: { error_rate: 0.5 }
                  - at: 150s
                    kill: 3
                """)
        let scenario = try Scenario(yaml: yaml, file: "fleet.yaml")
        let fleet = try #require(scenario.fleet)
        #expect(fleet.instances == 10)
        #expect(fleet.lease == 3)
        #expect(fleet.overrides.count == 1)
        #expect(fleet.overrides.first?.instance == 3)  // written from 1
        #expect(fleet.overrides.first?.spec.errorRate == 0.25)
        #expect(fleet.overrides.first?.spec.latency == .fixed(0.04), "the fields not given are the backend's own")
        guard scenario.events.count == 3, case .kill(nil) = scenario.events[0].change,
            case .instanceBackend(1, "checkout.stable", let spec) = scenario.events[1].change,
            case .kill(2) = scenario.events[2].change
        else {
            Issue.record("events: \(scenario.events.map(\.change))")
            return
        }
        #expect(spec.errorRate == 0.5)
    }

    @Test(arguments: [
        ("fleet:\n  lease: 5s", "bad.yaml:3: fleet: a fleet needs 'instances'"),
        ("fleet:\n  instances: 0", "bad.yaml:3: fleet.instances: 0 is out of range"),
        ("fleet:\n  instances: 101", "bad.yaml:3: fleet.instances: 101 is out of range"),
        ("fleet:\n  instances: 2\n  lease: 0.5s", "bad.yaml:4: fleet.lease:"),
        ("fleet:\n  instances: 2\n  size: 3", "bad.yaml:4: fleet.size: unknown field"),
        (
            "fleet:\n  instances: 2\n  overrides:\n    - { instance: 3, backend: checkout, set: { error_rate: 1 } }",
            "no instance 3: the fleet's instances are 1 to 2"
        ),
        (
            "fleet:\n  instances: 2\n  overrides:\n    - { instance: 1, backend: payments, set: { error_rate: 1 } }",
            "no backend payments (backends: checkout)"
        ),
        ("fleet:\n  instances: 2\n  overrides:\n    - { instance: 1, backend: checkout }", "an override needs 'instance'"),
        ("events:\n  - { at: 1m, kill: leader }", "'kill' stops an instance of a fleet: the scenario has no 'fleet'"),
        ("fleet:\n  instances: 2\nevents:\n  - { at: 1m, kill: someone }", "expected leader, or an instance from 1 to 2"),
        (
            "fleet:\n  instances: 2\nevents:\n  - { at: 1m, kill: leader }\n  - { at: 2m, kill: 2 }",
            "2 kill events for a fleet of 2 instances: one at least must stay alive"
        ),
        ("fleet:\n  instances: 2\nevents:\n  - { at: 1m, kill: 1, reason: x }", "a kill event takes only 'at' and 'kill'"),
        ("events:\n  - { at: 1m, backend: checkout, instance: 1, set: { error_rate: 1 } }", "'instance' needs a 'fleet'"),
        (
            "fleet:\n  instances: 2\n  overrides:\n    - { instance: 1, backend: checkout, set: { error_rate: 1 } }\nevents:\n  - { at: 1m, backend: checkout@1, set: { error_rate: 1 } }",
            "bad.yaml:7: events[1].backend: no backend checkout@1 (backends: checkout)"
        ),
        ("start: \"2300-01-01T00:00:00Z\"\nfleet:\n  instances: 2", "bad.yaml:2: start: a fleet's slices are cut on Unix time"),
        ("start: \"1960-01-01T00:00:00Z\"\nfleet:\n  instances: 2", "bad.yaml:2: start: a fleet's slices are cut on Unix time"),
        (
            "fleet:\n  instances: 2\nevents:\n  - { at: 1m, traffic: checkout, instance: 1, set: { rate: 1 } }",
            "'instance' belongs to backend events"
        ),
    ])
    func refusesABadFleet(_ fragment: String, _ expected: String) {
        let yaml = """
            duration: 5m
            \(fragment)
            pipelines:
              checkout:
                backend: { latency: 10ms }
                traffic: { rate: 10 }
            """
        let error = parseError(yaml)
        #expect(error?.contains(expected) == true, "\(error ?? "no error")")
    }

    // MARK: - Running

    @Test func theLeaderDecidesOnEveryInstancesCallsMergedExactly() async throws {
        let run = try await simulate(Self.scenario(), scripts: ["reader.lua": Self.reader])
        let readings = Self.readings(run)
        // Slices enter 2 s after they end: from the second tick after 12 s, the rule reads the fleet's.
        let merged = readings.filter { $0.fields["slice"] != "nil" }
        #expect(merged.count >= 15, "\(readings.map(\.fields))")
        for (t, fields) in merged {
            #expect(fields["instances"] == "10" && fields["leader"] == "instance-1" && fields["term"] == "1")
            // The fleet's last 10 s slice holds exactly what the instances' latest slices hold, and ten of them.
            #expect(fields["merged"] == fields["sum"], "at \(t): \(fields)")
            #expect(fields["views"] == "10")
            // 100 req/s over the fleet: about 1,000 calls a slice, not one instance's 100.
            let calls = Int(fields["merged"] ?? "") ?? 0
            #expect((800...1_200).contains(calls), "at \(t): \(fields)")
        }
        // Before a slice entered, the leader read its own windows: a tenth of the traffic.
        let own = try #require(readings.first { $0.fields["slice"] == "nil" && $0.t >= 10 })
        #expect((50...150).contains(Int(own.fields["merged"] ?? "") ?? 0), "\(own.fields)")
        // The output is the fleet's: every instance's calls in the totals.
        let calls = try #require(run.report.calls["checkout"])
        #expect((16_000...20_000).contains(calls), "\(calls)")
        #expect(run.report.calls["checkout.stable"].map { $0 + (run.report.calls["checkout.canary"] ?? 0) } == calls)
    }

    @Test func aRuleFindsTheOneBadInstance() async throws {
        let yaml = Self.scenario(
            fleetExtra: """
                  overrides:
                    - instance: 7
                      backend: checkout.canary
                      set: { error_rate: 0.9 }
                """)
        let run = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        let merged = Self.readings(run).filter { $0.fields["slice"] != "nil" }
        #expect(!merged.isEmpty)
        #expect(merged.allSatisfy { $0.fields["worst"] == "instance-7" }, "\(merged.map(\.fields))")
    }

    @Test func anEventChangesOneInstancesBackend() async throws {
        let yaml = Self.scenario(
            events: """
                events:
                  - at: 1m
                    backend: checkout.canary
                    instance: 3
                    set: { error_rate: 1 }
                """)
        let run = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        let readings = Self.readings(run).filter { $0.fields["slice"] != "nil" }
        #expect(readings.filter { $0.t > 75 }.allSatisfy { $0.fields["worst"] == "instance-3" })
        let failures = try #require(run.report.failures["checkout.canary"])
        let calls = try #require(run.report.calls["checkout.canary"])
        // One instance of ten fails every canary call for two of three minutes: about 6.7 % of them, plus the base 1 %.
        #expect((0.04...0.1).contains(Double(failures) / Double(calls)), "\(failures) of \(calls)")
    }

    @Test func aKilledLeaderIsFollowedAfterItsLeaseAndMissedByTheMerge() async throws {
        let yaml = Self.scenario(
            duration: "4m", fleetExtra: "  lease: 5s",
            events: """
                events:
                  - at: 61s
                    kill: leader
                  - at: 150s
                    kill: 5
                """)
        let run = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        let leads = run.events("command").filter { $0["action"] == .string("fleet.lead") }
        #expect(leads.map(\.t) == [0, 66])
        #expect(leads.map { $0["target"] } == [.string("instance-1"), .string("instance-2")])
        let kills = run.events("event").filter { $0["what"] == .string("kill") }
        #expect(kills.map { $0["target"] } == [.string("instance-1"), .string("instance-5")])
        let readings = Self.readings(run)
        // No rule runs without a leader.
        #expect(!readings.contains { $0.t > 61 && $0.t < 66 })
        let after = readings.filter { $0.t >= 66 }
        #expect(after.allSatisfy { $0.fields["leader"] == "instance-2" && $0.fields["term"] == "2" })
        // The new leader rebuilt the merge from the stored slices: it reads the fleet's at once.
        #expect(after.first?.fields["slice"] != "nil")
        // The dead stay in the merge for 3 slices, then are absent; the traffic goes to the 9, then the 8, alive.
        let late = try #require(readings.last { $0.t < 150 })
        #expect(late.fields["instances"] == "9" && late.fields["absent"] == "instance-1", "\(late.fields)")
        let last = try #require(readings.last)
        #expect(last.fields["instances"] == "8" && last.fields["absent"] == "instance-1,instance-5", "\(last.fields)")
        #expect(last.fields["views"] == "8")
        let calls = try #require(run.report.calls["checkout"])
        #expect((21_500...26_500).contains(calls), "every arrival is served by an instance alive: \(calls)")
        let summary = try #require(run.events("summary").first)
        #expect(summary["fleet"]?["leader"] == .string("instance-2"))
        #expect(summary["fleet"]?["killed"] == .array([.string("instance-1"), .string("instance-5")]))
    }

    @Test func theLeadersDecisionsReachEveryInstance() async throws {
        // The rule moves the canary's weight on the leader; every instance's split must follow, or the
        // canary's share of the fleet's calls would stay at 10 %.
        let rule = """
            return {
              interval = "10s",
              evaluate = function(state)
                if state.now >= 30 and state.params["checkout.split.canary_weight"].value < 50 then
                  sentinel.set("checkout.split.canary_weight", 50, "half")
                  sentinel.set("checkout.split.stable_weight", 50, "half")
                end
              end
            }
            """
        let run = try await simulate(
            Self.scenario(duration: "3m", events: "events:\n  - { at: 90s, kill: leader }"), scripts: ["rule.lua": rule])
        let stats = run.events("stats").filter { $0.t > 40 && $0["variant"] == .string("canary") }
        let totals = run.events("stats").filter { $0.t > 40 && $0["variant"] == .null }
        let canary = stats.compactMap { $0["calls"]?.double }.reduce(0, +)
        let all = totals.compactMap { $0["calls"]?.double }.reduce(0, +)
        #expect((0.45...0.55).contains(canary / all), "canary \(canary) of \(all)")
        #expect(run.report.knobs["checkout.split.canary_weight"] == 50)
    }

    @Test func commandsWithoutALeaderAreAppliedByTheFirstInstanceAliveAndAudited() async throws {
        // Between the leader's death and the end of its lease an operator's command still works: the first
        // instance alive executes it, the output says from and to, and every instance applies it.
        let yaml = Self.scenario(
            fleetExtra: "  lease: 30s",
            events: """
                events:
                  - { at: 60s, kill: leader }
                  - { at: 62s, command: param.set, args: { param: checkout.timeout.duration, value: 1.5 } }
                  - { at: 63s, command: param.set, args: { param: checkout.timeout.duration, value: 1 } }
                expect:
                  - param_min: checkout.timeout.duration
                    equals: 1
                  - param_max: checkout.timeout.duration
                    equals: 2
                """)
        let run = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        let sets = run.events("command").filter { $0["action"] == .string("param.set") }
        #expect(sets.map { $0["from"] } == [.double(2), .double(1.5)])
        #expect(sets.map { $0["to"] } == [.double(1.5), .double(1)])
        #expect(run.report.passed, "\(run.report.results)")
        #expect(run.report.knobs["checkout.timeout.duration"] == 1)
    }

    @Test func theStoreKeepsTheLastHundredSlices() async throws {
        let scenario = try Scenario(yaml: Self.scenario(instances: 3, rate: 10, duration: "30m"), file: "fleet.yaml")
        let folder = try ScriptFolder()
        defer { folder.remove() }
        let simulation = try Simulation(scenario: scenario, policies: folder.path, logger: .silent)
        _ = try await simulation.run { _ in }
        let slices = simulation.fleet?.slices ?? []
        #expect(slices.count == 300, "3 instances × 100 slices, not the run's 180 × 3 + …: \(slices.count)")
        // The last slice ends with the run: its merge would come 2 s later.
        #expect(simulation.fleet?.merged == slices.count - 3)
    }

    @Test func aFleetRunIsDeterministic() async throws {
        let yaml = Self.scenario(events: "events:\n  - { at: 61s, kill: leader }")
        let first = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        let second = try await simulate(yaml, scripts: ["reader.lua": Self.reader])
        #expect(first.json == second.json)
        let other = try await simulate(yaml, scripts: ["reader.lua": Self.reader], seed: 8)
        #expect(first.json != other.json)
    }

    // MARK: - Deciding on the fleet's calls

    /// The canary recipe as shipped, on 100 req/s: one process, or ten instances of 10 req/s each.
    static func canary(_ canary: String, instances: Int?, seed: Int) -> String {
        """
        duration: 20m
        seed: \(seed)
        sample: 0
        \(instances.map { "fleet:\n  instances: \($0)" } ?? "")
        pipelines:
          checkout:
            policies:
              - timeout: { duration: 2s }
              - split: { stable: 100, canary: 0 }
            backends:
              stable: { latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.005 }
              canary: \(canary)
            traffic: { rate: 100 }
        """
    }

    /// When the canary's weight reached 100 (promoted) or went back to 0 (rolled back), in seconds.
    static func decision(_ run: Run) -> (to: Double, t: Double)? {
        let weights = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }
        return weights.first { $0["to"]?.double == 100 || $0["to"]?.double == 0 }.flatMap { event in
            event["to"]?.double.map { ($0, event.t) }
        }
    }

    static let healthy = "{ latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.005 }"

    /// Ten instances at 10 req/s each decide what one process at 100 req/s
    /// decides, as fast but for the merge's delay (a slice enters 2 to 12 s
    /// after its calls; a leader judging only its own tenth would take many
    /// minutes more). Over 50 seeds per class (docs/decisions.md) the fleet
    /// was 10 to 30 s slower at the median; an error regression's time varies
    /// more from seed to seed, as the calls' draws differ.
    @Test(arguments: [
        (healthy, 100.0, 1, 40.0), (healthy, 100.0, 2, 40.0),
        ("{ latency: { distribution: lognormal, p50: 40ms, p99: 600ms }, error_rate: 0.005 }", 0.0, 1, 40.0),
        ("{ latency: { distribution: lognormal, p50: 40ms, p99: 200ms }, error_rate: 0.025 }", 0.0, 1, 150.0),
    ])
    func tenInstancesDecideAsFastAsOneProcessOfTheirTraffic(
        _ canary: String, verdict: Double, seed: Int, slack: Double
    ) async throws {
        let recipe = try String(contentsOfFile: "examples/recipes/canary/canary.lua", encoding: .utf8)
        let alone = try await simulate(Self.canary(canary, instances: nil, seed: seed), scripts: ["canary.lua": recipe])
        let fleet = try await simulate(Self.canary(canary, instances: 10, seed: seed), scripts: ["canary.lua": recipe])
        let single = try #require(Self.decision(alone))
        let merged = try #require(Self.decision(fleet))
        #expect(single.to == verdict && merged.to == verdict)
        #expect(merged.t <= single.t + slack, "ten instances decided at \(merged.t) s, one process at \(single.t) s")
    }
}
