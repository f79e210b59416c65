import Testing

@testable import Resilience

@Suite struct BulkheadTests {
    @Test func coreQueuesInOrderAndHandsPermitsOver() {
        var core = BulkheadCore<Int>(capacity: 1, maxQueued: 2)
        #expect(core.acquire(1) == .acquired)
        #expect(core.acquire(2) == .queued)
        #expect(core.acquire(3) == .queued)
        #expect(core.acquire(4) == .rejected)
        #expect(core.release() == 2)
        #expect(core.inUse == 1 && core.queued == 1)
        let left = core.leave(3)
        let leftAgain = core.leave(3)
        #expect(left)
        #expect(!leftAgain)
        #expect(core.release() == nil)
        #expect(core.inUse == 0)
    }

    @Test func shrinkingLetsInFlightFinishAndGrowingWakesWaiters() {
        var core = BulkheadCore<Int>(capacity: 3, maxQueued: 10)
        for id in 0..<3 { #expect(core.acquire(id) == .acquired) }
        #expect(core.resize(capacity: 1, maxQueued: 10).isEmpty)
        #expect(core.inUse == 3)
        #expect(core.acquire(10) == .queued)
        #expect(core.release() == nil)  // 2 in use, capacity 1: nobody starts
        #expect(core.release() == nil)
        #expect(core.release() == 10)  // now below capacity
        #expect(core.acquire(11) == .queued)
        #expect(core.acquire(12) == .queued)
        #expect(core.resize(capacity: 3, maxQueued: 10) == [11, 12])
        #expect(core.inUse == 3)
    }

    @Test func fullBulkheadRejectsAndRecordsTheRejection() async throws {
        let (pipeline, clock, _) = try manualPipeline { Bulkhead(maxConcurrent: 1) }
        async let first: Int = pipeline.execute {
            try await clock.sleep(for: .seconds(1))
            return 1
        }
        await clock.waitForSleepers(count: 1)
        do {
            _ = try await pipeline.execute { 2 }
            Issue.record("second call admitted")
        } catch let error as ResilienceError {
            #expect(error.code == .bulkheadFull)
        }
        clock.advance(by: .seconds(1))
        #expect(try await first == 1)
        #expect(pipeline.bulkhead?.inUse == 0)
        let stats = pipeline.windows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(stats.calls == 2 && stats.bulkheadRejections == 1)
    }

    @Test func cancelledWaiterLeavesTheQueueAndLeaksNoPermit() async throws {
        let (pipeline, clock, _) = try manualPipeline { Bulkhead(maxConcurrent: 1, maxQueued: 4) }
        async let holder: Int = pipeline.execute {
            try await clock.sleep(for: .seconds(1))
            return 1
        }
        await clock.waitForSleepers(count: 1)
        let waiter = Task { try await pipeline.execute { 2 } }
        while pipeline.bulkhead?.queued != 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pipeline.bulkhead?.queued == 0)
        clock.advance(by: .seconds(1))
        #expect(try await holder == 1)
        #expect(pipeline.bulkhead?.inUse == 0)
        #expect(try await pipeline.execute { 3 } == 3)
        #expect(pipeline.bulkhead?.inUse == 0)
    }

    @Test func queueTimeoutRejectsOnTheManualClock() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Bulkhead(maxConcurrent: 1, maxQueued: 1, queueTimeout: .milliseconds(100))
        }
        async let holder: Int = pipeline.execute {
            try await clock.sleep(for: .seconds(1))
            return 1
        }
        await clock.waitForSleepers(count: 1)
        async let waiter: Int = pipeline.execute { 2 }
        await clock.waitForSleepers(count: 2)  // the queue timer
        clock.advance(by: .milliseconds(100))
        do {
            _ = try await waiter
            Issue.record("waiter was admitted")
        } catch let error as ResilienceError {
            #expect(error.code == .bulkheadQueueTimeout)
        }
        #expect(pipeline.bulkhead?.queued == 0)
        clock.advance(by: .seconds(1))
        #expect(try await holder == 1)
        #expect(pipeline.bulkhead?.inUse == 0)
    }

    @Test func resizingUnderLoadNeverLosesOrAddsPermits() async throws {
        let (pipeline, _, registry) = try manualPipeline {
            Bulkhead(maxConcurrent: 4, maxQueued: 1000)
        }
        let running = Counter()
        let peakOverCapacity = Counter()
        let completed = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<300 {
                    try? registry.set("checkout.bulkhead.max_concurrent", Double(1 + i % 8))
                    await Task.yield()
                }
                try? registry.set("checkout.bulkhead.max_concurrent", 8)
            }
            for _ in 0..<16 {
                group.addTask {
                    for _ in 0..<100 {
                        let result = try? await pipeline.execute { () async -> Int in
                            let now = running.increment()
                            if now > 8 { peakOverCapacity.increment() }
                            await Task.yield()
                            running.decrement()
                            return 1
                        }
                        if result != nil { completed.increment() }
                    }
                }
            }
        }
        #expect(peakOverCapacity.current == 0)
        #expect(completed.current == 1600)
        #expect(pipeline.bulkhead?.inUse == 0)
        #expect(pipeline.bulkhead?.queued == 0)
        #expect(try await pipeline.execute { 5 } == 5)
    }
}
