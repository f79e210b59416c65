import Testing

@testable import Resilience

@Suite struct RetryTests {
    @Test(arguments: [Backoff.constant, .linear, .exponential])
    func backoffGrowsAndIsCapped(backoff: Backoff) {
        let settings = RetrySettings(maxAttempts: 10, baseDelay: 0.1, maxDelay: 1, multiplier: 2, backoff: backoff, jitter: .none)
        let delays = (1...8).map { RetryCore.delay(afterAttempt: $0, previous: 0.1, settings: settings, unit: 0.5) }
        switch backoff {
        case .constant: #expect(delays.allSatisfy { $0 == 0.1 })
        case .linear: #expect(abs(delays[2] - 0.3) < 1e-12 && delays[7] == 0.8)
        case .exponential:
            #expect(abs(delays[0] - 0.1) < 1e-12 && abs(delays[1] - 0.2) < 1e-12 && abs(delays[3] - 0.8) < 1e-12)
            #expect(delays[4] == 1 && delays[7] == 1)
        }
    }

    @Test func jitterStaysWithinItsRange() {
        var rng = SplitMix64(seed: 3)
        for jitter in [Jitter.full, .equal, .decorrelated] {
            let settings = RetrySettings(maxAttempts: 5, baseDelay: 0.1, maxDelay: 2, multiplier: 2, backoff: .exponential, jitter: jitter)
            var previous = 0.1
            for attempt in 1...20 {
                let delay = RetryCore.delay(afterAttempt: attempt, previous: previous, settings: settings, unit: rng.nextUnit())
                let plain = min(2, 0.1 * Double(1 << min(attempt - 1, 10)))
                switch jitter {
                case .full: #expect(delay >= 0 && delay <= plain)
                case .equal: #expect(delay >= plain / 2 && delay <= plain)
                default: #expect(delay >= 0.1 && delay <= 2)
                }
                previous = delay
            }
        }
    }

    @Test func retriesUntilSuccessSleepingOnTheClock() async throws {
        let events = EventStream()
        let (pipeline, clock, _) = try manualPipeline(events: events) {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
        }
        let attempts = Counter()
        async let result: Int = pipeline.execute { context in
            let n = attempts.increment()
            #expect(context.attempt == n)
            if n < 3 { throw BackendError() }
            return 42
        }
        for _ in 0..<2 {
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .milliseconds(100))
        }
        #expect(try await result == 42)
        #expect(attempts.current == 3)
        let stats = pipeline.windows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(stats.calls == 1 && stats.successes == 1)
        #expect(abs(stats.max - 0.2) < 0.01)
    }

    @Test func cancellationDuringBackoffStopsAtOnce() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(maxAttempts: 5, backoff: .constant, baseDelay: .seconds(10), jitter: .none, budgetRatio: nil)
            Bulkhead(maxConcurrent: 1)
        }
        let attempts = Counter()
        let task = Task {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw BackendError()
            }
        }
        await clock.waitForSleepers(count: 1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(attempts.current == 1)
        #expect(pipeline.bulkhead?.inUse == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test func nonRetryableErrorsStopImmediately() async throws {
        let (pipeline, _, _) = try manualPipeline {
            Retry(maxAttempts: 5, budgetRatio: nil, shouldRetry: { !($0 is BackendError) })
        }
        let attempts = Counter()
        await #expect(throws: BackendError.self) {
            try await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw BackendError()
            }
        }
        #expect(attempts.current == 1)
    }

    @Test func retryBudgetCapsRetriesDuringAStorm() async throws {
        let events = EventStream(capacity: 10000)
        let (pipeline, _, _) = try manualPipeline(events: events) {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: 0.1, budgetReserve: 5)
        }
        let attempts = Counter()
        for _ in 0..<1000 {
            _ = try? await pipeline.execute { () async throws -> Int in
                attempts.increment()
                throw BackendError()
            }
        }
        let retries = attempts.current - 1000
        // 5 in reserve plus 10% of 1000 calls, give or take the rounding of the cap.
        #expect(retries >= 100 && retries <= 106, "retries: \(retries)")
        events.finish()
        var refused = 0
        for await event in events.events where event.kind == .retryBudgetExhausted { refused += 1 }
        #expect(refused > 800)
    }

    @Test func budgetNeverGoesNegativeUnderConcurrency() async {
        let budget = RetryBudget(reserve: 10, capacity: 20)
        let granted = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<1000 {
                        budget.deposit(ratio: 0.05)
                        if budget.withdraw() { granted.increment() }
                    }
                }
            }
        }
        #expect(budget.tokens >= 0)
        #expect(granted.current <= 10 + 200)
    }
}
