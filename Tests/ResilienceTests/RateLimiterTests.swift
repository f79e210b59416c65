import Testing

@testable import Resilience

@Suite struct RateLimiterTests {
    @Test func tokenBucketAllowsBurstThenRefusesWithRetryAfter() {
        var bucket = TokenBucketCore()
        let limits = RateLimits(rate: 10, burst: 5, window: second)
        for _ in 0..<5 { #expect(bucket.acquire(1, now: 0, limits: limits).allowed) }
        let refused = bucket.acquire(1, now: 0, limits: limits)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 100 * millisecond)
        #expect(bucket.acquire(1, now: 100 * millisecond, limits: limits).allowed)
        #expect(!bucket.acquire(1, now: 100 * millisecond, limits: limits).allowed)
        // A long pause refills only up to the burst.
        #expect(bucket.available(now: 100 * second, limits: limits) == 5)
    }

    @Test func slidingWindowCountsThePreviousWindowByOverlap() {
        var window = SlidingWindowCore()
        let limits = RateLimits(rate: 10, burst: 1, window: second)  // 10 per second
        for _ in 0..<10 { #expect(window.acquire(1, now: 0, limits: limits).allowed) }
        let refused = window.acquire(1, now: 500 * millisecond, limits: limits)
        #expect(!refused.allowed && refused.retryAfter > 0)
        // Half-way through the next window, half of the previous one still counts.
        var allowed = 0
        while window.acquire(1, now: 1500 * millisecond, limits: limits).allowed { allowed += 1 }
        #expect(allowed == 5)
    }

    @Test func pipelineRejectionsCarryRetryAfter() async throws {
        let (pipeline, _, _) = try manualPipeline { RateLimit(rate: 2, algorithm: .tokenBucket(burst: 1)) }
        #expect(try await pipeline.execute { 1 } == 1)
        do {
            _ = try await pipeline.execute { 2 }
            Issue.record("second call allowed")
        } catch let error as ResilienceError {
            #expect(error.code == .rateLimited)
            #expect(error.retryAfter == .milliseconds(500))
        }
        let stats = pipeline.windows.stats(.tenSeconds, now: 0)
        #expect(stats.rateLimiterRejections == 1)
    }
}
