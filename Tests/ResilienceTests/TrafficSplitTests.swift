import Testing

@testable import Resilience

@Suite struct TrafficSplitTests {
    @Test func keyedCallsStayOnTheirVariantAsTheCanaryGrows() {
        let keys = (0..<2000).map { "user-\($0)" }
        var previous = Set<String>()
        for weight in stride(from: 0.0, through: 100, by: 10) {
            let canary = Set(keys.filter { SplitCore.choose(point: SplitCore.point(forKey: $0), weights: [weight, 100 - weight]) == 0 })
            #expect(previous.isSubset(of: canary), "a user left the canary when its weight grew to \(weight)")
            previous = canary
            let share = Double(canary.count) / Double(keys.count)
            #expect(abs(share - weight / 100) < 0.05)
        }
    }

    @Test func weightsChangingMidStreamRouteNewCallsAndKeepVariantStatistics() async throws {
        let (pipeline, _, registry) = try manualPipeline {
            TrafficSplit([("canary", 0), ("stable", 100)])
        }
        var seen: [String: Int] = [:]
        for i in 0..<400 {
            if i == 200 {
                try registry.apply([.set("checkout.split.canary_weight", 50), .set("checkout.split.stable_weight", 50)])
            }
            let variant = try await pipeline.execute { context in context.variant ?? "none" }
            if i < 200 { #expect(variant == "stable") }
            seen[variant, default: 0] += 1
        }
        let canary = seen["canary"] ?? 0
        #expect(canary > 60 && canary < 140, "canary got \(canary) of the last 200")
        let now = pipeline.time.now()
        let canaryStats = pipeline.variantWindows[0].windows.stats(.oneMinute, now: now)
        let stableStats = pipeline.variantWindows[1].windows.stats(.oneMinute, now: now)
        #expect(canaryStats.calls == canary)
        #expect(canaryStats.calls + stableStats.calls == 400)
        #expect(pipeline.snapshot().variants["canary"]?[.oneMinute]?.calls == canary)
    }

    @Test func stickyKeyInPipeline() async throws {
        let (pipeline, _, _) = try manualPipeline { TrafficSplit([("canary", 30), ("stable", 70)]) }
        let first = try await pipeline.execute(key: "alice") { $0.variant }
        for _ in 0..<20 { #expect(try await pipeline.execute(key: "alice") { $0.variant } == first) }
    }
}
