import Testing

@testable import Resilience

@Suite struct ConcurrentReconfigurationTests {
    /// A writer keeps two knobs summing to 100 through atomic batches; readers must never see another sum.
    @Test func readersNeverSeeHalfABatch() async throws {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("mix", registry: registry, time: ClockTimeSource(ManualClock())) {
            TrafficSplit([("canary", 0), ("stable", 100)])
            Retry(maxAttempts: 1)
        }
        let torn = Counter()
        let reads = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<2000 {
                    let canary = Double(i % 101)
                    try? registry.apply([
                        .set("mix.split.canary_weight", canary), .set("mix.split.stable_weight", 100 - canary),
                        .setShadow("mix.retry.max_attempts", Double(1 + i % 5)),
                    ])
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<20000 {
                        let snapshot = pipeline.knobs.read()
                        if snapshot.value(0) + snapshot.value(1) != 100 { torn.increment() }
                        reads.increment()
                    }
                }
            }
        }
        #expect(torn.current == 0)
        #expect(reads.current == 40000)
    }
}
