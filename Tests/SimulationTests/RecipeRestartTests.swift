import Testing

@testable import Simulation

/// The canary and blue/green recipes after a restart (memory and marks gone,
/// the weights kept): they read where the release stood from the weights; the
/// canary also counts the traffic on until it saw enough calls.
@Suite struct RecipeRestartTests {
    typealias Recipes = RecipeApprovalTests

    static func healthy(split: String, rate: String = "rate: 500") async throws -> Run {
        try await RecipeApprovalGateTests.run(
            "canary/healthy.yaml",
            replacing: [("split: { stable: 100, canary: 0 }", split), ("traffic: { rate: 500 }", "traffic: { \(rate) }")],
            cutFrom: "expect:")
    }

    static func logs(_ run: Run) -> [String] {
        run.events("log").compactMap { $0["message"]?.plainTextForTests }
    }

    @Test func aReleaseFoundAt25PercentGoesOnFromThereWithoutCountingTheTraffic() async throws {
        let run = try await Self.healthy(split: "split: { stable: 75, canary: 25 }")
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.map(\.to) == [50, 100])
        // Resumed at the first evaluation; 25 % of 500 req/s gives 2,000 canary calls in 16 s, so a minute at the step.
        #expect(moves[0].t >= 60 && moves[0].t <= 80, "stepped to 50 at \(moves[0].t)")
        #expect(Self.logs(run).contains { $0.contains("resumes at 25% (step 5 of the ladder) after a restart") })
    }

    @Test func aCanaryFoundAt100WasPromotedAndIsLeftAlone() async throws {
        let run = try await Self.healthy(split: "split: { stable: 0, canary: 100 }")
        #expect(Recipes.moves(run, Recipes.canaryWeight).isEmpty)
        #expect(run.events("decision").isEmpty)
    }

    /// No traffic until 3:05: the count starts with the first calls, so the rate is
    /// neither 0 req/s (straight to 50 %) nor diluted by the idle time before (a
    /// count ended 5 s into the traffic made it half the rate: 5 %, not 2 %).
    @Test func aPipelineWithoutTrafficYetIsCountedFromItsFirstCalls() async throws {
        let run = try await Self.healthy(
            split: "split: { stable: 100, canary: 0 }", rate: "rate: 0, pattern: step, steps: [{ at: 185s, rate: 500 }]")
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.first?.to == 2, "first step \(moves.map(\.to)): sized on 500 req/s")
        #expect((moves.first?.t ?? 0) >= 200 && (moves.first?.t ?? 0) <= 210, "first step at \(moves.first?.t ?? 0)")
        #expect(!Self.logs(run).contains { $0.contains("too few to size the first step") })
    }

    /// At 2 req/s the 20 s count holds about 40 calls, too few to tell the rate:
    /// the count goes on (it does not start over, which never ends below 5 req/s)
    /// until it has 100 calls, and says so once.
    @Test func aSlowPipelineIsCountedOnUntilItHadEnoughCalls() async throws {
        let run = try await Self.healthy(split: "split: { stable: 100, canary: 0 }", rate: "rate: 2")
        let moves = Recipes.moves(run, Recipes.canaryWeight)
        #expect(moves.first?.to == 50, "first step \(moves.map(\.to))")
        #expect((moves.first?.t ?? 0) >= 50 && (moves.first?.t ?? 0) <= 90, "first step at \(moves.first?.t ?? 0)")
        #expect(Self.logs(run).filter { $0.contains("too few to size the first step: counting on") }.count == 1)
    }

    @Test func aGreenFoundAt100WasSwitchedAndIsLeftAlone() async throws {
        let run = try await RecipeApprovalGateTests.run(
            "blue-green/switch.yaml", replacing: [("split: { blue: 100, green: 0 }", "split: { blue: 0, green: 100 }")],
            cutFrom: "expect:")
        #expect(Recipes.moves(run, Recipes.greenWeight).isEmpty)
        #expect(Self.logs(run).contains { $0.contains("switched before a restart") })
    }
}
