import Testing

@testable import Resilience

/// The read-only view of a pipeline's rate limiter that HTTP integrations report.
@Suite struct RateLimitStatusTests {
    @Test func tokenBucketStatusFollowsPermitsTakenAndRefill() async throws {
        let (pipeline, clock, _) = try manualPipeline { RateLimit(rate: 2, algorithm: .tokenBucket(burst: 4)) }
        let full = try #require(pipeline.rateLimitStatus())
        #expect(full == RateLimitStatus(rate: 2, capacity: 4, available: 4))
        #expect(full.timeToFull == .zero)
        #expect(full.refillPeriod == .seconds(2))
        for _ in 0..<3 { try await pipeline.execute {} }
        let used = try #require(pipeline.rateLimitStatus())
        #expect(used.available == 1)
        #expect(used.timeToFull == .milliseconds(1500))
        clock.advance(by: .milliseconds(500))
        #expect(pipeline.rateLimitStatus()?.available == 2)
    }

    @Test func readingTheStatusTakesNoPermit() async throws {
        let (pipeline, _, _) = try manualPipeline { RateLimit(rate: 1, algorithm: .tokenBucket(burst: 1)) }
        for _ in 0..<5 { _ = pipeline.rateLimitStatus() }
        try await pipeline.execute {}
        #expect(pipeline.rateLimitStatus()?.available == 0)
    }

    @Test func slidingWindowCapacityIsRateTimesWindow() async throws {
        let (pipeline, _, registry) = try manualPipeline { RateLimit(rate: 5, algorithm: .slidingWindow(window: .seconds(10))) }
        try await pipeline.execute {}
        #expect(pipeline.rateLimitStatus() == RateLimitStatus(rate: 5, capacity: 50, available: 49))
        #expect(pipeline.rateLimitStatus()?.refillPeriod == .seconds(10))
        // The knobs in force are read on every call.
        try registry.set("checkout.ratelimit.rate", 1)
        #expect(pipeline.rateLimitStatus()?.capacity == 10)
    }

    @Test func pipelineWithoutRateLimiterHasNoStatus() throws {
        let (pipeline, _, _) = try manualPipeline { Bulkhead(maxConcurrent: 1) }
        #expect(pipeline.rateLimitStatus() == nil)
    }
}
