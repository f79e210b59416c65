import Testing

@testable import Resilience

@Suite struct FallbackAndHedgingTests {
    @Test func fallbackAnswersOnlyTheRejectionsItNames() async throws {
        let (pipeline, _, _) = try manualPipeline { CircuitBreaker(minimumCalls: 1, window: .count(5)) }
        pipeline.breaker?.forceOpen()
        let onOpen = Fallback<Int>(when: .codes([.circuitOpen])) { _ in -1 }
        #expect(try await pipeline.execute(fallback: onOpen) { _ in 1 } == -1)
        pipeline.breaker?.reset()
        await #expect(throws: BackendError.self) {
            _ = try await pipeline.execute(fallback: onOpen) { _ in throw BackendError() }
        }
        let any = Fallback<Int>(when: .anyFailure) { _ in 0 }
        #expect(try await any.execute { throw BackendError() } == 0)
        let rejected = Fallback<Int>(when: .rejected) { _ in 0 }
        #expect(rejected.handles(ResilienceError(.bulkheadFull, pipeline: "p", "full")))
        #expect(!rejected.handles(ResilienceError(.timedOut, pipeline: "p", "late")))
        #expect(!any.handles(CancellationError()))
    }

    @Test func hedgeStartsASecondAttemptAfterTheDelayAndTheFirstSuccessWins() async throws {
        let clock = ManualClock()
        let delay = try Adaptive<Duration>(name: "search.hedge.delay", kind: .duration, default: .milliseconds(50), bounds: 0...10)
        let hedging = Hedging(delay: delay, maxAttempts: 2, clock: clock)
        let cancelled = Counter()
        async let result: Int = hedging.execute { attempt in
            if attempt == 1 {
                do { try await clock.sleep(for: .seconds(10)) } catch { cancelled.increment(); throw error }
                return 1
            }
            return 2
        }
        await clock.waitForSleepers(count: 2)  // attempt 1 and the hedge timer
        clock.advance(by: .milliseconds(50))
        #expect(try await result == 2)
        #expect(cancelled.current == 1)
    }

    @Test func hedgeFailsOnlyWhenEveryAttemptFailed() async throws {
        let clock = ManualClock()
        let delay = try Adaptive<Duration>(name: "search.hedge.delay", kind: .duration, default: .milliseconds(50), bounds: 0...10)
        let hedging = Hedging(delay: delay, maxAttempts: 3, clock: clock)
        let attempts = Counter()
        await #expect(throws: BackendError.self) {
            _ = try await hedging.execute { _ -> Int in
                attempts.increment()
                throw BackendError()
            }
        }
        #expect(attempts.current == 3)
    }

    @Test func hedgingCoreCounts() {
        var core = HedgingCore(maxAttempts: 2)
        #expect(core.started() == 1)
        #expect(core.canStartMore)
        core.failed()
        #expect(core.running == 0 && !core.allFailed)
        #expect(core.started() == 2)
        #expect(!core.canStartMore)
        core.failed()
        #expect(core.allFailed)
    }
}
