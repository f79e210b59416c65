import Testing

@testable import Resilience

@Suite struct ShadowTests {
    @Test(arguments: [
        // (live timed out, latency ms, live ms, shadow ms, expected)
        (false, 300, 500, 200, Outcome?.some(.timeout)),
        (false, 100, 500, 200, nil),
        (false, 300, 500, 1000, nil),
        (true, 500, 500, 1000, Outcome?.some(.unknown)),
        (true, 500, 500, 200, nil),
    ])
    func timeoutShadowJudgesOnlyWhatItCanKnow(liveTimedOut: Bool, latency: Int64, live: Int64, shadow: Int64, expected: Outcome?) {
        #expect(
            ShadowJudge.timeout(
                liveTimedOut: liveTimedOut, latency: latency * millisecond,
                live: live * millisecond, shadow: shadow * millisecond) == expected)
    }

    @Test func retryShadowJudgement() {
        // Live succeeded on attempt 3; a shadow allowing 2 would have failed with attempt 2's outcome.
        #expect(
            ShadowJudge.retry(
                attempts: 3, succeeded: true, ranOut: false, liveMax: 3, shadowMax: 2,
                outcomeAtShadowLimit: .timeout) == .timeout)
        // Live ran out at 3; a shadow allowing 5 might have succeeded: unknown.
        #expect(
            ShadowJudge.retry(
                attempts: 3, succeeded: false, ranOut: true, liveMax: 3, shadowMax: 5,
                outcomeAtShadowLimit: nil) == .unknown)
        #expect(
            ShadowJudge.retry(
                attempts: 1, succeeded: true, ranOut: false, liveMax: 3, shadowMax: 5,
                outcomeAtShadowLimit: nil) == nil)
    }

    @Test func admissionShadowJudgement() {
        #expect(ShadowJudge.admission(liveAdmitted: true, shadowAdmitted: false, rejection: .rejectedByBreaker) == .rejectedByBreaker)
        #expect(ShadowJudge.admission(liveAdmitted: false, shadowAdmitted: true, rejection: .rejectedByBreaker) == .unknown)
        #expect(ShadowJudge.admission(liveAdmitted: true, shadowAdmitted: true, rejection: .rejectedByRateLimiter) == nil)
    }

    @Test func bulkheadShadowJudgement() {
        #expect(
            ShadowJudge.bulkhead(liveAdmitted: true, inUseBefore: 5, queuedBefore: 0, shadowCapacity: 4, shadowQueue: 0)
                == .rejectedByBulkhead)
        #expect(ShadowJudge.bulkhead(liveAdmitted: true, inUseBefore: 5, queuedBefore: 0, shadowCapacity: 4, shadowQueue: 3) == .unknown)
        #expect(ShadowJudge.bulkhead(liveAdmitted: true, inUseBefore: 2, queuedBefore: 0, shadowCapacity: 4, shadowQueue: 0) == nil)
        #expect(ShadowJudge.bulkhead(liveAdmitted: false, inUseBefore: 4, queuedBefore: 0, shadowCapacity: 8, shadowQueue: 0) == .unknown)
    }

    /// Runs the same seeded workload and returns every live result and the live windows.
    func runWorkload(shadows: Bool) async throws -> ([String], WindowStats, CircuitState?) {
        let (pipeline, clock, registry) = try manualPipeline {
            Timeout(.milliseconds(400), mode: .cooperative)
            Retry(maxAttempts: 2, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: 0.5)
            CircuitBreaker(failureRate: 0.6, minimumCalls: 10, window: .count(20), openDuration: .seconds(1))
            Bulkhead(maxConcurrent: 4)
            RateLimit(rate: 1000, algorithm: .tokenBucket(burst: 50))
        }
        if shadows {
            try registry.apply([
                .setShadow("checkout.timeout.duration", 0.2), .setShadow("checkout.retry.max_attempts", 1),
                .setShadow("checkout.breaker.failure_rate", 0.2), .setShadow("checkout.bulkhead.max_concurrent", 1),
                .setShadow("checkout.ratelimit.rate", 1), .setShadow("checkout.ratelimit.burst", 2),
            ])
        }
        var rng = Xoshiro256StarStar(seed: 99)
        var results: [String] = []
        for _ in 0..<300 {
            let fail = rng.nextUnit() < 0.4
            let slow = rng.nextUnit() < 0.3
            do {
                let value: Int = try await pipeline.execute { context in
                    if slow && context.attempt == 1 { clock.advance(by: .milliseconds(300)) }
                    if fail { throw BackendError() }
                    return context.attempt
                }
                results.append("ok \(value)")
            } catch let error as ResilienceError {
                results.append("\(error.code)")
            } catch {
                results.append("error")
            }
            clock.advance(by: .milliseconds(20))
        }
        let stats = pipeline.windows.stats(.fifteenMinutes, now: pipeline.time.now())
        if shadows {
            let shadow = pipeline.shadowWindows.stats(.fifteenMinutes, now: pipeline.time.now())
            #expect(shadow.calls + shadow.unknown == 300)
            #expect(shadow.failures > stats.failures, "a stricter shadow must fail more")
            #expect(shadow.successes + shadow.failures == shadow.calls)
        } else {
            #expect(pipeline.shadowWindows.stats(.fifteenMinutes, now: pipeline.time.now()).calls == 0)
        }
        return (results, stats, pipeline.breaker?.state)
    }

    @Test func thePrimaryPathIsIdenticalWithOrWithoutShadows() async throws {
        let without = try await runWorkload(shadows: false)
        let with = try await runWorkload(shadows: true)
        #expect(without.0 == with.0)
        #expect(without.1 == with.1)
        #expect(without.2 == with.2)
        #expect(Set(without.0).count > 2, "the workload should exercise several outcomes")
    }

    @Test func shadowBreakerIsFedTheSameOutcomesWithoutTouchingLive() async throws {
        let (pipeline, _, registry) = try manualPipeline {
            CircuitBreaker(failureRate: 0.9, minimumCalls: 4, window: .count(10), openDuration: .seconds(30))
        }
        try registry.setShadow("checkout.breaker.failure_rate", 0.5)
        for i in 0..<8 {
            _ = try? await pipeline.execute { () async throws -> Int in
                if i % 2 == 0 { throw BackendError() }
                return i
            }
        }
        let snapshot = pipeline.snapshot()
        #expect(snapshot.breaker?.state == .closed)
        #expect(snapshot.breaker?.shadowState == .open)
        let shadow = snapshot.shadowWindows[.oneMinute]!
        #expect(shadow.breakerRejections > 0)
        #expect(snapshot.windows[.oneMinute]!.rejections == 0)
    }

    @Test func looserShadowTimeoutAfterALiveTimeoutIsUnknownNotSuccess() async throws {
        let (pipeline, clock, registry) = try manualPipeline { Timeout(.milliseconds(100), mode: .cooperative) }
        try registry.setShadow("checkout.timeout.duration", 1)
        _ = try? await pipeline.execute { () async -> Int in
            clock.advance(by: .milliseconds(200))
            return 1
        }
        let shadow = pipeline.shadowWindows.stats(.tenSeconds, now: pipeline.time.now())
        #expect(shadow.unknown == 1)
        #expect(shadow.successes == 0)
        #expect(shadow.calls == 0)
    }
}
