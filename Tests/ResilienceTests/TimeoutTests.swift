import Testing

@testable import Resilience

@Suite struct TimeoutTests {
    @Test func enforcedTimeoutCancelsTheOperationNotTheCaller() async throws {
        let (pipeline, clock, _) = try manualPipeline { Timeout(.seconds(1)) }
        let sawCancellation = Counter()
        async let call: Int = pipeline.execute {
            do {
                try await clock.sleep(for: .seconds(5))
            } catch {
                sawCancellation.increment()
                throw error
            }
            return 1
        }
        await clock.waitForSleepers(count: 2)
        clock.advance(by: .seconds(1))
        do {
            _ = try await call
            Issue.record("no timeout")
        } catch let error as ResilienceError {
            #expect(error.code == .timedOut)
        }
        #expect(sawCancellation.current == 1)
        #expect(!Task.isCancelled)
        #expect(try await pipeline.execute { 7 } == 7)
        let stats = pipeline.windows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(stats.timeouts == 1 && stats.successes == 1 && stats.calls == 2)
    }

    @Test func retryAroundTimeoutKeepsWorkingAfterATimeout() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(maxAttempts: 2, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
            Timeout(.seconds(1))
        }
        let attempts = Counter()
        async let call: String = pipeline.execute {
            if attempts.increment() == 1 {
                try await clock.sleep(for: .seconds(5))
            }
            return "second attempt"
        }
        await clock.waitForSleepers(count: 2)
        clock.advance(by: .seconds(1))
        #expect(try await call == "second attempt")
        #expect(attempts.current == 2)
    }

    @Test func cooperativeTimeoutSetsTheDeadlineAndChecksOnReturn() async throws {
        let (pipeline, clock, _) = try manualPipeline { Timeout(.milliseconds(300), mode: .cooperative) }
        let remaining = try await pipeline.execute { Deadline.current?.remaining }
        #expect(remaining == .milliseconds(300))
        async let late: Int = pipeline.execute {
            try await clock.sleep(for: .milliseconds(400))
            return 1
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(400))
        do {
            _ = try await late
            Issue.record("late result accepted")
        } catch let error as ResilienceError {
            #expect(error.code == .timedOut)
        }
        #expect(Deadline.current == nil)
    }

    @Test func nestedCooperativeDeadlinesKeepTheEarlierOne() async throws {
        let clock = ManualClock()
        let registry = ParameterRegistry()
        let time = ClockTimeSource(clock)
        let outer = try Pipeline("outer", registry: registry, time: time) { Timeout(.milliseconds(100), mode: .cooperative) }
        let inner = try Pipeline("inner", registry: registry, time: time) { Timeout(.seconds(10), mode: .cooperative) }
        let instant = try await outer.execute { try await inner.execute { Deadline.current?.instant } }
        #expect(instant == 100 * millisecond)
    }
}
