import Resilience
import Sentinel
import Simulation
import Testing

/// The blue/green recipe's smoke test on the sequential judge: everything
/// since the smoke mark, a switch only once errors passed and the minimum
/// smoke time is over, a failure only when proven, and no smoke test that
/// lasts for ever.
@Suite struct BlueGreenSmokeTests {
    typealias Recipes = RecipeApprovalTests

    @Test func greenSwitchesOnASequentialPassAfterTheMinimumSmokeTime() async throws {
        let run = try await RecipeTests.run("blue-green/switch.yaml")
        let moves = Recipes.moves(run, Recipes.greenWeight)
        #expect(moves.map(\.to) == [2, 100])
        #expect(moves[1].t - moves[0].t >= 180, "switched \(moves[1].t - moves[0].t) s into the smoke test")
        let switchEvent = try #require(run.events("command").last { $0["target"] == Recipes.greenWeight })
        let smoke = try #require(switchEvent["evidence"]?["smoke"])
        #expect(smoke["errors"] == .string("pass"))
        #expect(smoke["latency"] != .string("violation"))
        // Green's numbers are everything since the mark: at 6 calls a second, over a thousand.
        #expect((switchEvent["evidence"]?["green"]["calls"].double ?? 0) >= 1_000)
    }

    @Test func aWorseGreenFailsOnlyOnceTheSequentialTestProvesIt() async throws {
        let run = try await RecipeTests.run("blue-green/smoke-fails.yaml")
        let moves = Recipes.moves(run, Recipes.greenWeight)
        #expect(moves.map(\.to) == [2, 0])
        #expect(moves[1].reason.contains("green failed its smoke test: error_rate"))
        let failEvent = try #require(run.events("command").last { $0["target"] == Recipes.greenWeight })
        let smoke = try #require(failEvent["evidence"]?["smoke"])
        #expect(smoke["errors"] == .string("violation"))
        #expect((smoke["error_violation_p"].double ?? 1) <= 0.005, "at most the test's α (1 % over two tests)")
    }

    @Test func anUndecidedSmokeTestSendsGreenBackAfterItsMaximumTime() async throws {
        let run = try await RecipeTests.run("blue-green/undecided.yaml")
        let moves = Recipes.moves(run, Recipes.greenWeight)
        #expect(moves.map(\.to) == [2, 0])
        #expect(moves[1].t - moves[0].t >= 1_800 && moves[1].t - moves[0].t <= 1_805)
        #expect(moves[1].reason.contains("smoke test is undecided after 1800 s"))
        #expect(run.events("alert").contains { $0["severity"] == .string("warning") })
    }
}

extension BlueGreenSmokeTests {
    /// The pipeline registered again while the script's memory stays: its
    /// mark no longer applies, so the rule marks again and routes the smoke
    /// share to the new pipeline; the smoke test goes on without an error.
    @Test func aLostSmokeMarkStartsTheSmokeTestAgain() async throws {
        let clock = ManualClock()
        let registry = ParameterRegistry()
        let time = ClockTimeSource(clock)
        func shop() throws -> Pipeline {
            try Pipeline("shop", registry: registry, time: time) {
                Timeout(.seconds(2))
                TrafficSplit([("blue", 100), ("green", 0)])
            }
        }
        _ = try shop()
        let plane = ControlPlane(registry: registry, time: time, epoch: 1_800_000_000)
        let runtime = SentinelRuntime(plane: plane, logger: .silent)
        guard case .success(let recipe) = ScriptFile.read(path: "examples/recipes/blue-green/blue_green.lua"),
            case .success = await runtime.engine.load(
                path: "/policies/blue_green.lua", source: String(decoding: recipe.contents, as: UTF8.self))
        else {
            Issue.record("the recipe did not load")
            return
        }
        var ticks = EngineTicks(runtime, clock: clock, step: 5_000_000_000)
        func tick() async {
            let round = await ticks.next()
            #expect(round.evaluated == ["blue-green"] && round.failed.isEmpty, "\(round.failed)")
        }
        await tick()
        #expect(try registry.value("shop.split.green_weight") == 2)
        registry.unregister(pipeline: "shop")
        _ = try shop()
        #expect(try registry.value("shop.split.green_weight") == 0)
        await tick()
        #expect(try registry.value("shop.split.green_weight") == 2, "the smoke share is back on the new pipeline")
        let moves = plane.audit.entries.filter { $0.action == "param.set" && $0.target == "shop.split.green_weight" }
        #expect(moves.last?.reason?.contains("the smoke mark was lost") == true)
        await tick()  // the smoke test goes on from the new mark
    }
}
