import Sentinel
import Simulation
import Testing

/// Every recipe's scenarios, as shipped in `examples/recipes/`: each passes its
/// own `expect` list, and the figures the recipes promise hold.
@Suite struct RecipeTests {
    static let scenarios = [
        "canary/healthy.yaml", "canary/errors.yaml", "canary/latency.yaml",
        "canary/approval.yaml", "canary/approval-denied.yaml", "canary/fleet-failover.yaml", "canary/fleet-one-bad-instance.yaml",
        "ratchet-up/finds-capacity.yaml", "ratchet-up/capacity-drops.yaml", "ratchet-up/capacity-doubles.yaml",
        "ratchet-up/capacity-recovers.yaml", "ratchet-up/low-traffic.yaml", "ratchet-up/high-traffic.yaml",
        "safety-valve/spike.yaml", "safety-valve/sustained.yaml",
        "blue-green/switch.yaml", "blue-green/green-fails.yaml", "blue-green/smoke-fails.yaml", "blue-green/approval.yaml",
        "blue-green/undecided.yaml",
        "failover/outage.yaml", "failover/flapping.yaml",
        "../scenarios/shadow-promote.yaml", "../scenarios/shadow-promote-slowdown.yaml",
        "../scenarios/shadow-promote-frozen.yaml",
    ]

    /// The run of a shipped scenario: simulated once per test run and shared
    /// by every test that looks at it (the runs are deterministic).
    static func run(_ file: String) async throws -> Run {
        try await RecipeRuns.shared.run(file)
    }

    @Test(arguments: scenarios)
    func passesItsExpectations(_ file: String) async throws {
        let run = try await Self.run(file)
        for result in run.report.results where !result.passed {
            Issue.record("\(file): \(result.assertion) (actual \(result.actual.plainTextForTests))")
        }
        #expect(run.report.errors.isEmpty)
        #expect(run.events("script").allSatisfy { $0["outcome"] == .string("applied") }, "a recipe script failed")
    }

    @Test func aHealthyCanaryReaches100() async throws {
        let run = try await Self.run("canary/healthy.yaml")
        #expect(run.report.knobs["checkout.split.canary_weight"] == 100)
        let steps = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }.compactMap { $0["to"]?.double }
        // 500 req/s: 2 % gives the canary 2,000 calls within 4 minutes (1 % would not), so the release starts there.
        #expect(steps == [2, 5, 10, 25, 50, 100])
    }

    /// A regression the steps are sized for (3 points of errors) is rolled back at the first step;
    /// a smaller one (p99 × 1.3) takes more calls: it reaches 50 % before it is rolled back.
    @Test(arguments: [("canary/errors.yaml", 2.0), ("canary/latency.yaml", 50.0)])
    func aWorseCanaryIsRolledBack(_ file: String, highest: Double) async throws {
        let run = try await Self.run(file)
        let weights = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }.compactMap {
            $0["to"]?.double
        }
        #expect(weights.last == 0)
        #expect(weights.max() == highest, "rolled back from \(weights)")
    }

    @Test func ratchetUpSettlesWithin10PercentOfTheTrueCapacity() async throws {
        // 20 slots × 50 ms: 400 requests per second.
        let run = try await Self.run("ratchet-up/finds-capacity.yaml")
        let rate = try #require(run.report.knobs["api.ratelimit.rate"])
        #expect(abs(rate - 400) / 400 <= 0.1, "settled at \(rate)")
        let dropped = try await Self.run("ratchet-up/capacity-drops.yaml")
        let after = try #require(dropped.report.knobs["api.ratelimit.rate"])
        #expect(abs(after - 200) / 200 <= 0.1, "settled at \(after) after the drop")
    }

    /// The limit's changes after `at` seconds: (seconds after `at`, new limit).
    static func limits(_ run: Run, after at: Double) -> [(t: Double, rate: Double)] {
        run.events("command").filter { $0["target"] == .string("api.ratelimit.rate") && $0.t >= at }
            .compactMap { event in event["to"]?.double.map { (event.t - at, $0) } }
    }

    @Test func ratchetUpFollowsCapacityUpAndDown() async throws {
        // 400 → 800 req/s at 15m: above 80 % of the new capacity within 10 minutes.
        let doubled = Self.limits(try await Self.run("ratchet-up/capacity-doubles.yaml"), after: 900)
        let above = try #require(doubled.first { $0.rate > 640 }, "never above 640: \(doubled)")
        #expect(above.t <= 600, "above 640 only \(above.t) s after the doubling")
        // 400 → 200 req/s at 15m: under the new capacity within 2 minutes.
        let halved = Self.limits(try await Self.run("ratchet-up/capacity-drops.yaml"), after: 900)
        let under = try #require(halved.first { $0.rate <= 200 }, "never under 200: \(halved)")
        #expect(under.t <= 120, "under 200 only \(under.t) s after the drop")
        // Capacity back at 15m under 300 req/s of demand: the limit stops refusing it within 10 minutes.
        let recovered = Self.limits(try await Self.run("ratchet-up/capacity-recovers.yaml"), after: 900)
        let serving = try #require(recovered.first { $0.rate >= 300 }, "never back to 300: \(recovered)")
        #expect(serving.t <= 600, "demand refused for \(serving.t) s after capacity came back")
    }

    @Test(arguments: [("ratchet-up/low-traffic.yaml", 20.0), ("ratchet-up/high-traffic.yaml", 2_000.0)])
    func ratchetUpSettlesUnderCapacityAtAnyScale(file: String, capacity: Double) async throws {
        let run = try await Self.run(file)
        let rate = try #require(run.report.knobs["api.ratelimit.rate"])
        #expect(rate <= capacity && rate >= 0.85 * capacity, "settled at \(rate) for a capacity of \(capacity)")
    }

    @Test func blueGreenSwitchesBackWithinSeconds() async throws {
        let run = try await Self.run("blue-green/green-fails.yaml")
        let back = try #require(run.events("command").last { $0["target"] == .string("shop.split.blue_weight") })
        #expect(back["to"]?.double == 100)
        #expect(back.t >= 600 && back.t <= 615, "switched back at \(back.t)")
    }

    @Test func shadowPromoteTightensATimeoutThroughATrial() async throws {
        let run = try await Self.run("../scenarios/shadow-promote.yaml")
        let trial = run.events("trial")
        #expect(trial.map { $0["action"]?.plainTextForTests } == ["\"trial.start\"", "\"trial.promote\""])
        // Promoted exactly one window (10 minutes) after it started.
        #expect(trial[1].t - trial[0].t == 600)
        guard case .object(let changes)? = trial[1]["changes"] else { Issue.record("no changes"); return }
        #expect(changes["checkout.timeout.duration"]?.objectValue?["from"] == .double(2))
        #expect(run.report.knobs["checkout.timeout.duration"].map { $0 < 0.75 } == true)
    }

    @Test func aFreezeHoldsTheShadowTrialUntilAWholeWindowAfterTheUnfreeze() async throws {
        // The freeze at 5:00 came before the trial's 10:30 promotion; the
        // unfreeze at 20:00 restarts its 10-minute window at the next evaluation.
        let run = try await Self.run("../scenarios/shadow-promote-frozen.yaml")
        let trial = run.events("trial")
        #expect(trial.map { $0["action"]?.plainTextForTests } == ["\"trial.start\"", "\"trial.hold\"", "\"trial.promote\""])
        #expect(trial[1].t == 330, "held at the first evaluation after the freeze")
        #expect(trial[2].t == 1830, "promoted a whole window after the first evaluation after the unfreeze")
        let changes = run.events("command").filter { $0["target"] == .string("checkout.timeout.duration") }
        #expect(changes.isEmpty, "no script changed the timeout either")
    }

    @Test func failoverHappensWithinSecondsAndFailsBackWithHysteresis() async throws {
        let run = try await Self.run("failover/outage.yaml")
        let moves = run.events("command").filter { $0["target"] == .string("edge.split.primary_weight") }
        #expect(moves.count == 2)
        #expect(moves[0].t >= 300 && moves[0].t <= 310, "failed over at \(moves[0].t)")
        // Back only after 3 healthy minutes once us_east recovered at 12m.
        #expect(moves[1].t >= 720 + 180, "failed back at \(moves[1].t)")
    }

    /// A regression 30 s before the end of the bake at 50 %: on the whole step (67,000 good canary
    /// calls before it) it would be diluted and the canary promoted at 12:20; the step's latest
    /// segments see only the bad calls and roll it back first.
    @Test func aRegressionLateInTheLastStepIsRolledBackNotPromoted() async throws {
        let late = """
            events:
              - at: 710s
                backend: checkout.canary
                set: { error_rate: 0.025 }

            """
        let run = try await RecipeApprovalGateTests.run("canary/healthy.yaml", cutFrom: "expect:", append: late)
        let weights = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }
        #expect(weights.map { $0["to"]?.double } == [2, 5, 10, 25, 50, 0])
        #expect((weights.last?.t ?? 0) > 710 && (weights.last?.t ?? 0) < 740, "rolled back at \(weights.last?.t ?? 0)")
        #expect(weights.last?["reason"]?.plainTextForTests.contains("in its latest calls") == true)
    }

    /// At 10 req/s the release is one step at 50 %, and a segment there lasts 20 minutes. A regression
    /// at 5:00, 3 minutes before FIT passes (8:10), is a small part of the step's calls: FIT passes
    /// on them. The last minutes show it, so the promotion holds (one `hold` decision) until HARM rolls back.
    /// With a hold that never fires on the last minutes (`HOLD_CONFIDENCE` near 1), the same seed is
    /// promoted at 8:10: one of the 8 of 300 such releases the decision matrix saw promoted before.
    @Test(arguments: [(0.75, 0.0), (0.999999, 100.0)])
    func aRegressionMinutesBeforeFITPassesAtLowTrafficHoldsThePromotion(confidence: Double, decided: Double) async throws {
        let regression = """
            constants:
              canary.lua: { HOLD_CONFIDENCE: \(confidence) }
            events:
              - at: 300s
                backend: checkout.canary
                set: { error_rate: 0.025 }

            """
        let run = try await RecipeApprovalGateTests.run(
            "canary/healthy.yaml", replacing: [("seed: 42", "seed: 291"), ("traffic: { rate: 500 }", "traffic: { rate: 10 }")],
            cutFrom: "expect:", append: regression)
        let weights = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }
        #expect(weights.map { $0["to"]?.double } == [50, decided])
        let holds = run.events("decision").filter { $0["action"] == "hold" }
        if decided == 0 {
            #expect(holds.map(\.t) == [490], "held once, where it was promoted without the hold")
            #expect(holds.first?["subject"] == "checkout.canary" && holds.first?["verdict"] == "pass")
            #expect(holds.first?["reason"]?.plainTextForTests.contains("its last 5m looks worse than stable's (error_rate)") == true)
            // HARM rolls back, later: the hold itself only waits.
            #expect((weights.last?.t ?? 0) > 490, "rolled back at \(weights.last?.t ?? 0), after the hold")
            #expect(weights.last?["reason"]?.plainTextForTests.contains("worse than stable at 50%") == true)
        } else {
            #expect(holds.isEmpty)
            #expect(weights.last?.t == 490, "promoted at \(weights.last?.t ?? 0)")
        }
    }

    /// Both sides slow for 20 s as the last step begins: FIT's estimate of stable's p99 is
    /// made in the burst and stays far too high, so stable has almost no calls above it and
    /// FIT could never pass. The recipe sees the estimate is stale and starts FIT over.
    @Test func aHealthyCanaryWhoseLastStepBeganInASlowBurstIsPromoted() async throws {
        func latency(_ at: String, _ p50: String, _ p99: String) -> String {
            ["stable", "canary"].map {
                """
                  - at: \(at)
                    backend: checkout.\($0)
                    set: { latency: { distribution: lognormal, p50: \(p50), p99: \(p99) } }

                """
            }.joined()
        }
        let burst = "events:\n" + latency("425s", "300ms", "1200ms") + latency("445s", "40ms", "200ms")
        let run = try await RecipeApprovalGateTests.run("canary/healthy.yaml", cutFrom: "expect:", append: burst)
        let weights = run.events("command").filter { $0["target"] == .string("checkout.split.canary_weight") }
        #expect(weights.map { $0["to"]?.double } == [2, 5, 10, 25, 50, 100])
        #expect((weights.last?.t ?? 0) <= 800, "promoted at \(weights.last?.t ?? 0)")
        let restarts = run.events("log").filter { $0["message"]?.plainTextForTests.contains("FIT starts over") == true }
        #expect(restarts.count == 1)
    }

    /// At 20 req/s 2 % gives green 0.4 calls a second: its share grows to 25 % so the
    /// smoke test decides, and the watch after the switch judges a minute, not 10 s.
    @Test func blueGreenSwitchesAGoodGreenOnLowTraffic() async throws {
        let run = try await RecipeApprovalGateTests.run(
            "blue-green/switch.yaml", replacing: [("traffic: { rate: 300 }", "traffic: { rate: 20 }")])
        let failed = run.report.results.filter { !$0.passed }.map(\.assertion)
        #expect(failed.isEmpty, "\(failed)")
        let moves = run.events("command").filter { $0["target"] == .string("shop.split.green_weight") }
        #expect(moves.map { $0["to"]?.double } == [2, 25, 100])
        #expect(moves.count == 3 && moves[2].t <= 600, "switched at \(moves.last?.t ?? 0)")
    }

    /// At 10 req/s the probe gets 12 calls a minute, too few to judge: the primary is
    /// judged over five minutes instead, so it fails back later, but it does.
    @Test(arguments: [10, 2_000])
    func failoverFailsBackAtLowAndHighTraffic(rate: Int) async throws {
        let run = try await RecipeApprovalGateTests.run(
            "failover/outage.yaml", replacing: [("traffic: { rate: 200 }", "traffic: { rate: \(rate) }")])
        let failed = run.report.results.filter { !$0.passed }.map(\.assertion)
        #expect(failed.isEmpty, "\(failed)")
        let moves = run.events("command").filter { $0["target"] == .string("edge.split.primary_weight") }
        #expect(moves.map { $0["to"]?.double } == [2, 100])
        #expect(moves.count == 2 && moves[1].t >= 720 + 180 && moves[1].t <= 1500, "failed back at \(moves.last?.t ?? 0)")
    }
}

extension JSONValue {
    var plainTextForTests: String { jsonString() }
}

/// Each shipped scenario simulated once per test run, whichever test asks first.
actor RecipeRuns {
    static let shared = RecipeRuns()
    private var runs: [String: Task<Run, any Error>] = [:]

    func run(_ file: String) async throws -> Run {
        if let running = runs[file] { return try await running.value }
        let task = Task { try await Self.simulate(file) }
        runs[file] = task
        return try await task.value
    }

    private static func simulate(_ file: String) async throws -> Run {
        let path = "examples/recipes/\(file)"
        guard case .success(let contents) = ScriptFile.read(path: path, maximumFileSize: 1 << 20) else {
            throw ScratchFolderError(errno: 2)
        }
        let scenario = try Scenario(yaml: String(decoding: contents.contents, as: UTF8.self), file: path)
        let folder = String(path[..<path.lastIndex(of: "/")!])
        return try await SimulationTests.simulate(scenario, policies: folder + "/" + scenario.policies)
    }
}
