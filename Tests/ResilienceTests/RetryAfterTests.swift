import Testing

@testable import Resilience

/// A failure that asks for a wait before the next attempt.
private struct Throttled: Error, RetryAfterHinting {
    var retryAfter: Duration?
}

/// A failure that says whether it is worth another attempt.
private struct Classified: Error, RetryClassifying {
    var isRetryable: Bool
}

/// Which execution engine a pipeline runs on: the flat one, or the nested one
/// (an enforced timeout outside the retry, whose timer sleeps through the call).
enum Engine: String, CaseIterable, Sendable {
    case flat, nested
}

@Suite struct RetryAfterTests {
    private func retrying(
        _ engine: Engine, backoff: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10),
        events: EventStream? = nil
    ) throws -> (Pipeline, ManualClock) {
        let (pipeline, clock, _) = try manualPipeline(events: events) {
            if engine == .nested { Timeout(.seconds(600)) }
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: backoff, maxDelay: maxDelay, jitter: .none, budgetRatio: nil)
        }
        #expect(pipeline.hasEnforcedTimeout == (engine == .nested))
        return (pipeline, clock)
    }

    /// Sleepers on the clock besides the retry's backoff (the nested engine's timeout timer).
    private func others(_ engine: Engine) -> Int { engine == .nested ? 1 : 0 }

    @Test(arguments: Engine.allCases)
    func hintLongerThanTheBackoffDelaysTheNextAttempt(engine: Engine) async throws {
        let events = EventStream()
        let (pipeline, clock) = try retrying(engine, events: events)
        let attempts = Counter()
        async let result: Int = pipeline.execute { () async throws -> Int in
            if attempts.increment() == 1 { throw Throttled(retryAfter: .seconds(2)) }
            return 42
        }
        await clock.waitForSleepers(count: 1 + others(engine))
        clock.advance(by: .milliseconds(1900))
        // Past the 100 ms backoff, short of the hint: still waiting.
        #expect(clock.sleeperCount == 1 + others(engine))
        #expect(attempts.current == 1)
        clock.advance(by: .milliseconds(100))
        #expect(try await result == 42)
        #expect(attempts.current == 2)
        events.finish()
        var delays: [Double] = []
        for await event in events.events {
            if case .retryAttempt(_, let delay) = event.kind { delays.append(delay) }
        }
        #expect(delays == [2])
    }

    @Test(arguments: Engine.allCases)
    func hintShorterThanTheBackoffKeepsTheBackoff(engine: Engine) async throws {
        let (pipeline, clock) = try retrying(engine, backoff: .seconds(1))
        let attempts = Counter()
        async let result: Int = pipeline.execute { () async throws -> Int in
            if attempts.increment() == 1 { throw Throttled(retryAfter: .milliseconds(200)) }
            return 42
        }
        await clock.waitForSleepers(count: 1 + others(engine))
        clock.advance(by: .milliseconds(500))
        #expect(clock.sleeperCount == 1 + others(engine))
        #expect(attempts.current == 1)
        clock.advance(by: .milliseconds(500))
        #expect(try await result == 42)
    }

    @Test(arguments: Engine.allCases)
    func hintBeyondMaxDelayEndsTheCallAtOnce(engine: Engine) async throws {
        let (pipeline, clock) = try retrying(engine, maxDelay: .seconds(1))
        let attempts = Counter()
        let error = await #expect(throws: Throttled.self) {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw Throttled(retryAfter: .seconds(5))
            }
        }
        #expect(error?.retryAfter == .seconds(5))
        #expect(attempts.current == 1)
        #expect(clock.sleeperCount == 0)
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 1 && stats.failures == 1)
    }

    @Test(arguments: Engine.allCases)
    func hintOfNoTimeChangesNothing(engine: Engine) async throws {
        let (pipeline, clock) = try retrying(engine)
        let attempts = Counter()
        async let result: Int = pipeline.execute { () async throws -> Int in
            if attempts.increment() == 1 { throw Throttled(retryAfter: .zero) }
            return 42
        }
        await clock.waitForSleepers(count: 1 + others(engine))
        clock.advance(by: .milliseconds(100))
        #expect(try await result == 42)
    }

    @Test func acceptsHintsUpToTheLargestBackoffDelay() {
        let settings = RetrySettings(baseDelay: 0.1, maxDelay: 2)
        #expect(RetryCore.accepts(hint: 2, settings: settings))
        #expect(!RetryCore.accepts(hint: 2.001, settings: settings))
        #expect(RetryCore.accepts(hint: 3, settings: RetrySettings(baseDelay: 3, maxDelay: 1)))
    }

    @Test func openBreakerRetryAfterDoesNotMakeAnUnretriedRejectionWait() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
            CircuitBreaker(failureRate: 0.5, minimumCalls: 2, window: .count(2), openDuration: .seconds(30))
        }
        for _ in 0..<2 {
            await #expect(throws: Classified.self) {
                try await pipeline.execute { () async throws -> Int in throw Classified(isRetryable: false) }
            }
        }
        let attempts = Counter()
        let error = await #expect(throws: ResilienceError.self) {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                return 1
            }
        }
        #expect(error?.code == .circuitOpen)
        #expect(error?.retryAfter == .seconds(30))
        #expect(attempts.current == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test func retriedRateLimitRefusalWaitsForTheLimiter() async throws {
        let retryRefusals: @Sendable (any Error) -> Bool = { ($0 as? ResilienceError)?.code == .rateLimited }
        let (pipeline, clock, _) = try manualPipeline {
            Retry(
                maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(10), jitter: .none, budgetRatio: nil,
                shouldRetry: retryRefusals)
            RateLimit(rate: 1, algorithm: .tokenBucket(burst: 1))
        }
        #expect(try await pipeline.execute { 1 } == 1)
        async let second: Int = pipeline.execute { 2 }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(900))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .milliseconds(200))
        #expect(try await second == 2)
    }

    @Test(arguments: [false, true])
    func defaultPredicateAsksTheErrorWhetherToRetry(retryable: Bool) async throws {
        let (pipeline, _, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
        }
        let attempts = Counter()
        await #expect(throws: Classified.self) {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw Classified(isRetryable: retryable)
            }
        }
        #expect(attempts.current == (retryable ? 3 : 1))
        #expect(!Retry.defaultPredicate(ResilienceError(.rateLimited, pipeline: "p", "refused")))
        #expect(Retry.defaultPredicate(ResilienceError(.timedOut, pipeline: "p", "late")))
    }

    /// A cooperative timeout around the retry bounds the whole call: an attempt that would
    /// start after its deadline (a backoff or a Retry-After past it) is not made.
    @Test(.timeLimit(.minutes(1)))  // without the check, the call would sleep on the manual clock for good
    func aCooperativeTimeoutAroundTheRetryEndsTheCallInsteadOfWaitingPastIt() async throws {
        let (pipeline, _, _) = try manualPipeline {
            Timeout(.seconds(2), mode: .cooperative)
            Retry(
                maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), maxDelay: .seconds(10), jitter: .none,
                budgetRatio: nil)
        }
        let attempts = Counter()
        await #expect(throws: Throttled.self) {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw Throttled(retryAfter: .seconds(5))
            }
        }
        #expect(attempts.current == 1)
    }

    /// Inside the retry, the timeout is per attempt: the backoff after one attempt's deadline still retries.
    @Test func aCooperativeTimeoutInsideTheRetryDoesNotEndTheRetries() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(
                maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), maxDelay: .seconds(10), jitter: .none,
                budgetRatio: nil)
            Timeout(.seconds(2), mode: .cooperative)
        }
        let attempts = Counter()
        async let result: Int = pipeline.execute { () async throws -> Int in
            if attempts.increment() == 1 { throw Throttled(retryAfter: .seconds(5)) }
            return 42
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .seconds(5))
        #expect(try await result == 42)
        #expect(attempts.current == 2)
    }

}
