import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Resilience
import SentinelHTTPClient
import Testing

/// Retries, `Retry-After`, failure answers and the breaker, against a real upstream on loopback.
@Suite(.timeLimit(.minutes(1))) struct RetryingClientTests {
    private func retrying(
        maxAttempts: Int = 3, baseDelay: Duration = .zero, maxDelay: Duration = .seconds(10)
    ) throws -> (Pipeline, ManualClock) {
        try manualPipeline {
            Retry(maxAttempts: maxAttempts, backoff: .constant, baseDelay: baseDelay, maxDelay: maxDelay, jitter: .none, budgetRatio: nil)
        }
    }

    @Test func retriesA503ThenReturnsTheSuccess() async throws {
        let (pipeline, _) = try retrying()
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 503, body: "busy"))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                let response = try await inventory.execute(HTTPClientRequest(url: "/items/42?fields=stock"))
                #expect(response.status == .ok)
                #expect(try await response.text() == "upstream")
            }
            #expect(upstream.received.map(\.path) == ["/items/42?fields=stock", "/items/42?fields=stock"])
        }
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 1 && stats.successes == 1)
    }

    @Test func failureBodiesAreReadSoRetriesReuseTheConnection() async throws {
        let (pipeline, _) = try retrying()
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            let big = String(repeating: "x", count: 200_000)
            upstream.answer(.init(status: 503, body: big), .init(status: 502, body: big))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url,
                    configuration: .init(failureBodyLimit: 16))
                let response = try await inventory.execute(HTTPClientRequest(url: "/items/1"))
                #expect(response.status == .ok)
                _ = try await response.text()
            }
            // Three attempts over one connection: each failure's body was read to its end
            // (a body left unread would have closed its connection).
            let ports = upstream.received.map(\.clientPort)
            #expect(ports.count == 3)
            #expect(Set(ports).count == 1, "client ports: \(ports)")
        }
    }

    @Test func retryAfterIsWaitedOnThePipelinesClock() async throws {
        let (pipeline, clock) = try retrying(baseDelay: .milliseconds(10))
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 503, headers: ["Retry-After": "3"], body: "busy"))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                async let response = inventory.execute(HTTPClientRequest(url: "/items/7"))
                await clock.waitForSleepers(count: 1)
                clock.advance(by: .milliseconds(2990))
                // Past the 10 ms backoff, short of the 3 s asked for: still waiting.
                #expect(clock.sleeperCount == 1)
                #expect(upstream.received.count == 1)
                clock.advance(by: .milliseconds(10))
                #expect(try await response.status == .ok)
                #expect(upstream.received.count == 2)
            }
        }
    }

    @Test func retryAfterBeyondMaxDelayFailsAtOnceWithTheAnswer() async throws {
        let (pipeline, clock) = try retrying(maxDelay: .seconds(10))
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 429, headers: ["Retry-After": "120"], body: "slow down"))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await inventory.execute(HTTPClientRequest(url: "/items/7"))
                }
                #expect(error?.code == .failureStatus)
                #expect(error?.retryAfter == .seconds(120))
                #expect(error?.isRetryable == true)
                #expect(error?.response?.status == .tooManyRequests)
                #expect(try await error?.response?.text() == "slow down")
            }
            #expect(upstream.received.count == 1)
            #expect(clock.sleeperCount == 0)
        }
    }

    @Test func lastFailureAnswerIsReturnedWhenConfigured() async throws {
        let (pipeline, _) = try retrying(maxAttempts: 2)
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 503, body: "first"), .init(status: 504, body: "second"))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url,
                    configuration: .init(failedResponses: .returned))
                let response = try await inventory.execute(HTTPClientRequest(url: "/items/7"))
                #expect(response.status == .gatewayTimeout)
                #expect(try await response.text() == "second")
            }
        }
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 1 && stats.failures == 1)
    }

    @Test func nonRetryableFailuresAndClientErrorsAreNotRetried() async throws {
        let (pipeline, _) = try retrying()
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 500, body: "bug"), .init(status: 404, body: "no such item"))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await inventory.execute(HTTPClientRequest(url: "/items/1"))
                }
                #expect(error?.code == .failureStatus && error?.isRetryable == false)
                let missing = try await inventory.execute(HTTPClientRequest(url: "/items/2"))
                #expect(missing.status == .notFound)
                #expect(try await missing.text() == "no such item")
            }
            #expect(upstream.received.count == 2)
        }
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 2 && stats.failures == 1 && stats.successes == 1)
    }

    @Test func breakerOpensOnServerErrorsButNotOnClientErrors() async throws {
        let (pipeline, _) = try manualPipeline {
            CircuitBreaker(failureRate: 0.5, minimumCalls: 4, window: .count(4), openDuration: .seconds(30))
        }
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            for _ in 0..<4 { upstream.answer(.init(status: 404)) }
            for _ in 0..<4 { upstream.answer(.init(status: 500)) }
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                for _ in 0..<4 {
                    #expect(try await inventory.execute(HTTPClientRequest(url: "/items/9")).status == .notFound)
                }
                #expect(pipeline.breaker?.state == .closed)
                #expect(pipeline.breaker?.windowCounts.failures == 0)
                // The window of 4 then holds 2 successes and 2 failures: a failure rate of 0.5 opens it.
                for _ in 0..<2 {
                    await #expect(throws: PipelineHTTPClientError.self) {
                        try await inventory.execute(HTTPClientRequest(url: "/items/9"))
                    }
                }
                #expect(pipeline.breaker?.state == .open)
                let refusal = await #expect(throws: ResilienceError.self) {
                    try await inventory.execute(HTTPClientRequest(url: "/items/9"))
                }
                #expect(refusal?.code == .circuitOpen)
            }
            #expect(upstream.received.count == 6)
        }
    }

    @Test func refusedConnectionIsRetryableForEveryMethod() async throws {
        let refusing = try RefusingPort()
        for method in [HTTPMethod.GET, .POST] {
            let events = EventStream()
            let pipeline = try Pipeline(
                "refused", registry: ParameterRegistry(), time: ClockTimeSource(ManualClock()), events: events
            ) {
                Retry(maxAttempts: 2, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
            }
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: "http://127.0.0.1:\(refusing.port)")
                var request = HTTPClientRequest(url: "/items/1")
                request.method = method
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await inventory.execute(request, body: .bytes(ByteBuffer(string: "{}")))
                }
                #expect(error?.code == .connectionFailed, "\(String(describing: error))")
                #expect(error?.isRetryable == true)
            }
            events.finish()
            var retries = 0
            for await event in events.events {
                if case .retryAttempt = event.kind { retries += 1 }
            }
            #expect(retries == 1, "\(method)")
        }
    }
}
