import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Resilience
import SentinelHummingbird
import Testing

/// What the pipeline decides becomes the status and the header fields of the answer.
@Suite struct RefusalMappingTests {
    @Test func rateLimitRefusalAnswers429WithRetryAfterAndDraftFields() async throws {
        let route = try RouteFixture { RateLimit(rate: 1, algorithm: .tokenBucket(burst: 5)) }
        try await route.test(.init(rateLimitFields: .everyResponse)) { client async throws in
            for remaining in (0..<5).reversed() {
                let response = try await client.get("/r")
                #expect(response.status == .ok)
                #expect(response.headers[.rateLimitPolicy] == #""default";q=5;w=5"#)
                #expect(response.headers[.rateLimit] == "\"default\";r=\(remaining);t=\(5 - remaining)")
            }
            let refused = try await client.get("/r")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.headers[.rateLimitPolicy] == #""default";q=5;w=5"#)
            #expect(refused.headers[.rateLimit] == #""default";r=0;t=5"#)
            #expect(refused.headers[.rateLimitLimit] == nil)
            route.clock.advance(by: .seconds(1))
            #expect(try await client.get("/r").status == .ok)
        }
        #expect(route.handlerCalls.value == 6)
        #expect(route.totals.rateLimiterRejections == 1)
    }

    @Test func retryAfterRoundsTheLimitersWaitUp() async throws {
        let route = try RouteFixture { RateLimit(rate: 0.25, algorithm: .tokenBucket(burst: 1)) }
        try await route.test { client async throws in
            #expect(try await client.get("/r").status == .ok)
            route.clock.advance(by: .milliseconds(500))
            let refused = try await client.get("/r")
            #expect(refused.status == .tooManyRequests)
            // 0.875 of a permit missing at 0.25 per second: 3.5 s, written 4.
            #expect(refused.headers[.retryAfter] == "4")
            #expect(refused.headers[.rateLimitPolicy] == #""default";q=1;w=4"#)
            #expect(refused.headers[.rateLimit] == #""default";r=0;t=4"#)
        }
    }

    @Test func slidingWindowIsDescribedByItsWindow() async throws {
        let route = try RouteFixture { RateLimit(rate: 10, algorithm: .slidingWindow(window: .seconds(60))) }
        try await route.test(.init(rateLimitFields: .everyResponse)) { client async throws in
            let response = try await client.get("/r")
            #expect(response.headers[.rateLimitPolicy] == #""default";q=600;w=60"#)
            #expect(response.headers[.rateLimit] == #""default";r=599;t=1"#)
        }
    }

    @Test func legacyFieldsAndPolicyNameWhenConfigured() async throws {
        let route = try RouteFixture { RateLimit(rate: 100, algorithm: .tokenBucket(burst: 100)) }
        let configuration = PipelineMiddleware<BasicPipelineRequestContext>.Configuration(
            rateLimitFields: .everyResponse, legacyRateLimitFields: true, rateLimitPolicy: "per-route")
        try await route.test(configuration) { client async throws in
            let response = try await client.get("/r")
            #expect(response.headers[.rateLimitPolicy] == #""per-route";q=100;w=1"#)
            #expect(response.headers[.rateLimit] == #""per-route";r=99;t=1"#)
            #expect(response.headers[.rateLimitLimit] == "100")
            #expect(response.headers[.rateLimitRemaining] == "99")
            #expect(response.headers[.rateLimitReset] == "1")
        }
    }

    @Test func rateLimitFieldsOnlyOnRefusalsByDefault() async throws {
        let route = try RouteFixture { RateLimit(rate: 1, algorithm: .tokenBucket(burst: 1)) }
        try await route.test { client async throws in
            let admitted = try await client.get("/r")
            #expect(admitted.headers[.rateLimit] == nil)
            let refused = try await client.get("/r")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.rateLimit] == #""default";r=0;t=1"#)
        }
    }

    @Test func openBreakerAnswers503WithItsRemainingOpenTime() async throws {
        let route = try RouteFixture {
            CircuitBreaker(failureRate: 0.5, minimumCalls: 4, openDuration: .seconds(30))
        }
        try await route.test(handler: answering(.internalServerError)) { client async throws in
            for _ in 0..<4 { #expect(try await client.get("/r").status == .internalServerError) }
            #expect(route.pipeline.breaker?.state == .open)
            route.clock.advance(by: .milliseconds(10_500))
            let refused = try await client.get("/r")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "20")
            #expect(refused.headers[.rateLimit] == nil)
        }
        #expect(route.handlerCalls.value == 4)
        #expect(route.totals.breakerRejections == 1)
    }

    @Test func forcedOpenBreakerAnswers503WithTheConfiguredRetryAfter() async throws {
        let route = try RouteFixture { CircuitBreaker() }
        route.pipeline.breaker?.forceOpen()
        try await route.test(.init(unknownRetryAfter: .seconds(7))) { client async throws in
            let refused = try await client.get("/r")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "7")
        }
        #expect(route.handlerCalls.value == 0)
    }

    @Test func fullBulkheadAnswers503WhileTheFirstRequestRuns() async throws {
        let route = try RouteFixture { Bulkhead(maxConcurrent: 1) }
        let first = try await route.whileARequestIsInside { client in
            let refused = try await client.get("/r")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
        }
        #expect(first == .ok)
        #expect(route.handlerCalls.value == 1)
        #expect(route.totals.bulkheadRejections == 1)
    }

    @Test func bulkheadQueueTimeoutAnswers503() async throws {
        let route = try RouteFixture { Bulkhead(maxConcurrent: 1, maxQueued: 1, queueTimeout: .seconds(1)) }
        let clock = route.clock
        let first = try await route.whileARequestIsInside { client in
            // The second request waits in the queue, on the clock, until its timeout.
            async let queued = client.get("/r")
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .seconds(1))
            let refused = try await queued
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
        }
        #expect(first == .ok)
        #expect(route.handlerCalls.value == 1)
        #expect(route.totals.bulkheadRejections == 1)
    }

    @Test func cooperativeTimeoutAnswers504() async throws {
        let route = try RouteFixture { Timeout(.seconds(1), mode: .cooperative) }
        let clock = route.clock
        try await route.test(
            handler: { _, _ in
                clock.advance(by: .seconds(2))
                return Response(status: .ok)
            }
        ) { client async throws in
            let response = try await client.get("/r")
            #expect(response.status == .gatewayTimeout)
            #expect(response.headers[.retryAfter] == nil)
        }
        #expect(route.totals.timeouts == 1)
    }

    @Test func enforcedTimeoutAnswers504AndCancelsTheHandler() async throws {
        let route = try RouteFixture { Timeout(.seconds(1)) }
        let clock = route.clock
        let cancelled = CallCounter()
        let handler: RouteFixture.Handler = { _, _ in
            do {
                try await clock.sleep(until: clock.now.advanced(by: .seconds(60)))
            } catch {
                cancelled.increment()
                throw error
            }
            return Response(status: .ok)
        }
        try await route.test(handler: handler) { client async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.get("/r").status }
                // The timeout's timer and the handler both sleep on the clock.
                await clock.waitForSleepers(count: 2)
                clock.advance(by: .seconds(1))
                let status = try await group.next()
                #expect(status == .gatewayTimeout)
            }
        }
        #expect(cancelled.value == 1)
        #expect(route.totals.timeouts == 1)
    }
}
