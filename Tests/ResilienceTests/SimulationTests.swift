import Testing

@testable import Resilience

@Suite struct SimulationTests {
    func pipeline(_ name: String = "sim", @PolicyBuilder _ policies: () -> [PipelineComponent]) throws -> Pipeline {
        try Pipeline(name, registry: ParameterRegistry(), time: ClockTimeSource(ManualClock()), seed: 7, policies: policies)
    }

    @Test func retriesBackOffOnVirtualTime() throws {
        let p = try pipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
        }
        var (call, step) = p.beginSimulatedCall(at: 0)
        #expect(step == .run(CallContext(variant: nil, attempt: 1)))
        step = p.finishAttempt(&call, error: BackendError(), at: 10 * millisecond)
        #expect(step == .backoff(until: 110 * millisecond))
        step = p.resume(&call, at: 110 * millisecond)
        #expect(step == .run(CallContext(variant: nil, attempt: 2)))
        step = p.finishAttempt(&call, error: nil, at: 130 * millisecond)
        #expect(step == .finished(.success))
        let stats = p.windows.stats(.tenSeconds, now: second)
        #expect(stats.calls == 1 && stats.successes == 1)
        #expect(abs(stats.max - 0.13) < 0.003)
    }

    @Test func aLateAttemptTimesOutAndIsRetried() throws {
        let p = try pipeline {
            Retry(maxAttempts: 2, backoff: .constant, baseDelay: .milliseconds(10), jitter: .none, budgetRatio: nil)
            Timeout(.milliseconds(200))
        }
        var (call, step) = p.beginSimulatedCall(at: 0)
        #expect(call.deadline == 200 * millisecond)
        step = p.finishAttempt(&call, error: nil, at: 200 * millisecond + 1)
        #expect(step == .backoff(until: 210 * millisecond + 1))
        step = p.resume(&call, at: 210 * millisecond + 1)
        #expect(call.deadline == 410 * millisecond + 1)
        step = p.finishAttempt(&call, error: nil, at: 250 * millisecond)
        #expect(step == .finished(.success))
    }

    @Test func queuedCallsGetPermitsOrGiveUpAtTheirDeadline() throws {
        let p = try pipeline { Bulkhead(maxConcurrent: 1, maxQueued: 2, queueTimeout: .milliseconds(50)) }
        var (a, stepA) = p.beginSimulatedCall(at: 0)
        #expect(stepA == .run(CallContext(variant: nil, attempt: 1)))
        var (b, stepB) = p.beginSimulatedCall(at: 1)
        #expect(stepB == .queued(until: 50 * millisecond + 1))
        var (c, stepC) = p.beginSimulatedCall(at: 2)
        #expect(p.pollQueue(&b, at: 10, giveUp: false) == nil)
        stepA = p.finishAttempt(&a, error: nil, at: 20 * millisecond)
        #expect(stepA == .finished(.success))
        stepB = try #require(p.pollQueue(&b, at: 20 * millisecond, giveUp: false))
        #expect(stepB == .run(CallContext(variant: nil, attempt: 1)))
        guard case .queued(let until?) = stepC else { Issue.record("c not queued"); return }
        stepC = try #require(p.pollQueue(&c, at: until, giveUp: true))
        #expect(stepC == .finished(.rejectedByBulkhead))
        stepB = p.finishAttempt(&b, error: nil, at: 70 * millisecond)
        #expect(stepB == .finished(.success))
        #expect(p.bulkhead?.inUse == 0 && p.bulkhead?.queued == 0)
    }

    /// A seeded discrete-event run of 50,000 calls: the same seed gives the same windows.
    func simulate(seed: UInt64) throws -> (WindowStats, WindowStats, CircuitState?) {
        let p = try pipeline {
            Retry(maxAttempts: 3, backoff: .exponential, baseDelay: .milliseconds(20), jitter: .full, budgetRatio: 0.2)
            CircuitBreaker(failureRate: 0.5, minimumCalls: 50, window: .count(100), openDuration: .seconds(2))
            TrafficSplit([("canary", 10), ("stable", 90)])
        }
        var rng = Xoshiro256StarStar(seed: seed)
        var now: Int64 = 0
        for i in 0..<50_000 {
            now += 1 * millisecond
            let failureRate = (i / 10_000) % 2 == 1 ? 0.8 : 0.05  // outages come and go
            var (call, step) = p.beginSimulatedCall(key: "user-\(i % 500)", at: now)
            var t = now
            loop: while true {
                switch step {
                case .run:
                    t += Int64(1 + rng.next() % 5) * millisecond
                    step = p.finishAttempt(&call, error: rng.nextUnit() < failureRate ? BackendError() : nil, at: t)
                case .backoff(let until):
                    t = until
                    step = p.resume(&call, at: t)
                case .queued:
                    Issue.record("no bulkhead here")
                    break loop
                case .finished:
                    break loop
                }
            }
        }
        return (p.windows.stats(.fifteenMinutes, now: now), p.variantWindows[0].windows.stats(.fifteenMinutes, now: now), p.breaker?.state)
    }

    @Test func seededSimulationIsDeterministic() throws {
        let first = try simulate(seed: 1)
        let second = try simulate(seed: 1)
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.2 == second.2)
        #expect(first.0.calls == 50_000)
        #expect(first.0.breakerRejections > 0, "the outages should open the breaker")
        #expect(first.1.calls > 3_000 && first.1.calls < 7_000, "canary share: \(first.1.calls)")
    }
}
