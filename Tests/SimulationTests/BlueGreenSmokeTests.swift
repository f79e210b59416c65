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
