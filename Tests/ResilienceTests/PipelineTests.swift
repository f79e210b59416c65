import Synchronization
import Testing

@testable import Resilience

@Suite struct PipelineTests {
    @Test(arguments: Preset.allCases)
    func presetsBuildAndRegisterTheirKnobs(preset: Preset) async throws {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("svc", preset: preset, registry: registry, time: ClockTimeSource(ManualClock()))
        #expect(!registry.parameters().isEmpty)
        #expect(registry.parameters().allSatisfy { $0.name.hasPrefix("svc.") })
        #expect(try await pipeline.execute { 1 } == 1)
    }

    @Test func snapshotHasEverythingTheObserverReads() async throws {
        let (pipeline, _, registry) = try manualPipeline {
            Timeout(.seconds(1), mode: .cooperative)
            RateLimit(rate: 10, algorithm: .tokenBucket(burst: 5))
            CircuitBreaker()
            Bulkhead(maxConcurrent: 3)
            TrafficSplit([("canary", 10), ("stable", 90)])
        }
        for _ in 0..<3 { _ = try await pipeline.execute { 1 } }
        let snapshot = pipeline.snapshot()
        #expect(snapshot.name == "checkout")
        #expect(snapshot.windows.count == 4 && snapshot.shadowWindows.count == 4)
        #expect(snapshot.windows[.tenSeconds]?.calls == 3)
        #expect(Set(snapshot.variants.keys) == ["canary", "stable"])
        #expect(snapshot.breaker?.state == .closed)
        #expect(snapshot.bulkhead == .init(inUse: 0, queued: 0, capacity: 3))
        #expect(snapshot.rateLimiter?.available == 2)
        let timeout = try #require(snapshot.parameters.first { $0.name == "checkout.timeout.duration" })
        #expect(timeout.value == 1 && timeout.minimum > 0 && timeout.maximum == 86400)
        #expect(registry.snapshots().map(\.name) == ["checkout"])
    }

    @Test func halfOpenAdmitsOnlyItsTrialCallsThenCloses() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            CircuitBreaker(minimumCalls: 1, window: .count(5), openDuration: .seconds(1), halfOpenCalls: 1)
            Bulkhead(maxConcurrent: 1)
        }
        _ = try? await pipeline.execute { () async throws -> Int in throw BackendError() }
        #expect(pipeline.breaker?.state == .open)
        clock.advance(by: .seconds(1))
        async let holder: Int = pipeline.execute {
            try await clock.sleep(for: .seconds(1))
            return 1
        }
        await clock.waitForSleepers(count: 1)
        // The holder is the single trial call; this one is refused until the trial's outcome is in.
        await #expect(throws: ResilienceError.self) { try await pipeline.execute { 2 } }
        clock.advance(by: .seconds(1))
        #expect(try await holder == 1)
        #expect(pipeline.breaker?.state == .closed)
    }

    @Test func trialSlotReturnsWhenTheTrialCallIsRefusedBelow() throws {
        var core = CircuitBreakerCore(window: .count(5))
        let settings = BreakerSettings(minimumCalls: 1, openDuration: second, halfOpenCalls: 1)
        _ = core.record(failure: true, latency: 1, trial: false, now: 0, settings: settings)
        #expect(core.decide(now: second, settings: settings).0 == .permitted(trial: true))
        #expect(!core.decide(now: second, settings: settings).0.isPermitted)
        core.releaseTrial()
        #expect(core.decide(now: second, settings: settings).0 == .permitted(trial: true))
    }

    @Test func callsUnderConcurrentReconfigurationKeepCountsConsistent() async throws {
        let (pipeline, _, registry) = try manualPipeline {
            Retry(maxAttempts: 2, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: 0.5)
            CircuitBreaker(failureRate: 0.9, minimumCalls: 50)
            Bulkhead(maxConcurrent: 4, maxQueued: 1000)
            TrafficSplit([("canary", 50), ("stable", 50)])
        }
        let calls = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<200 {
                    let w = Double(i % 101)
                    try? registry.apply([
                        .set("checkout.split.canary_weight", w), .set("checkout.split.stable_weight", 100 - w),
                        .setShadow("checkout.retry.max_attempts", Double(1 + i % 3)),
                        .set("checkout.bulkhead.max_concurrent", Double(1 + i % 6)),
                        .set("checkout.breaker.failure_rate", i % 2 == 0 ? 0.8 : 0.95),
                    ])
                    await Task.yield()
                }
            }
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<100 {
                        calls.increment()
                        _ = try? await pipeline.execute { () async throws -> Int in
                            await Task.yield()
                            if (i + t) % 7 == 0 { throw BackendError() }
                            return i
                        }
                    }
                }
            }
        }
        let snapshot = pipeline.snapshot()
        let live = try #require(snapshot.windows[.oneMinute])
        #expect(live.calls == calls.current)
        #expect(live.successes + live.failures == live.calls)
        #expect(live.successes >= 0 && live.failures >= 0)
        let variants = snapshot.variants.values.compactMap { $0[.oneMinute]?.calls }.reduce(0, +)
        #expect(variants == live.calls)
        #expect(snapshot.bulkhead?.inUse == 0 && snapshot.bulkhead?.queued == 0)
    }
}

@Suite struct TimeAndRandomTests {
    @Test func manualClockResumesSleepersInDeadlineOrder() async throws {
        let clock = ManualClock()
        let order = OrderLog()
        await withTaskGroup(of: Void.self) { group in
            for (name, ms) in [("c", 30), ("a", 10), ("b", 20)] {
                group.addTask {
                    try? await clock.sleep(for: .milliseconds(ms))
                    order.append(name)
                }
            }
            await clock.waitForSleepers(count: 3)
            clock.advance(by: .milliseconds(10))
            while order.values.count < 1 { await Task.yield() }
            clock.advance(by: .milliseconds(10))
            while order.values.count < 2 { await Task.yield() }
            clock.advance(by: .milliseconds(10))
        }
        #expect(order.values == ["a", "b", "c"])
        #expect(clock.now.offset == .milliseconds(30))
    }

    @Test func cancelledSleeperLeavesAtOnce() async {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(for: .seconds(100)) }
        await clock.waitForSleepers(count: 1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func seededGeneratorsRepeat() {
        var a = Xoshiro256StarStar(seed: 5)
        var b = Xoshiro256StarStar(seed: 5)
        var c = Xoshiro256StarStar(seed: 6)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        let shared1 = SharedRandom(seed: 9), shared2 = SharedRandom(seed: 9)
        #expect((0..<8).map { _ in shared1.next() } == (0..<8).map { _ in shared2.next() })
        var unit = SplitMix64(seed: 1)
        #expect((0..<1000).allSatisfy { _ in (0..<1).contains(unit.nextUnit()) })
    }
}

final class OrderLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ value: String) { storage.withLock { $0.append(value) } }
    var values: [String] { storage.withLock { $0 } }
}

@Suite struct NestedEngineTests {
    /// Pipelines with an enforced timeout run their stages in child tasks; the
    /// breaker, bulkhead and retry must behave exactly as in the flat engine.
    @Test func enforcedTimeoutPipelineRetriesRecordsAndReleases() async throws {
        let events = EventStream(capacity: 64)
        let (pipeline, _, _) = try manualPipeline(events: events) {
            Timeout(.seconds(10))
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
            CircuitBreaker(minimumCalls: 100, window: .count(100))
            Bulkhead(maxConcurrent: 2)
        }
        #expect(pipeline.hasEnforcedTimeout)
        let attempts = Counter()
        await #expect(throws: BackendError.self) {
            _ = try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw BackendError()
            }
        }
        #expect(attempts.current == 3)
        #expect(pipeline.breaker?.windowCounts.calls == 3)
        #expect(pipeline.breaker?.windowCounts.failures == 3)
        #expect(pipeline.bulkhead?.inUse == 0)
        #expect(try await pipeline.execute { context in context.attempt } == 1)
        let stats = pipeline.windows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(stats.calls == 2 && stats.failures == 1 && stats.successes == 1)
        events.finish()
        var exhausted = 0
        for await event in events.events where event.kind == .retryExhausted(attempts: 3) { exhausted += 1 }
        #expect(exhausted == 1)
    }
}
