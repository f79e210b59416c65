import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Resilience
import Testing

@testable import SentinelHTTPClient

/// Per-attempt timeouts, bodies, variants and hedging, against real upstreams on loopback.
@Suite(.timeLimit(.minutes(1))) struct AttemptTests {
    @Test func eachAttemptHasItsOwnDeadline() async throws {
        let (pipeline, _) = try manualPipeline {
            Retry(maxAttempts: 2, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
        }
        let (single, _) = try manualPipeline("single") { CircuitBreaker() }
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            // The first attempt of each call gets no answer in time; the second is answered.
            upstream.answer(.init(status: 200, body: "late", held: true))
            try await withHTTPClient { client in
                let configuration = PipelineHTTPClient.Configuration(attemptTimeout: .milliseconds(200))
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url, configuration: configuration)
                let response = try await inventory.execute(HTTPClientRequest(url: "/items/1"))
                #expect(try await response.text() == "upstream")
                #expect(upstream.received.count == 2)

                upstream.answer(.init(status: 200, body: "late", held: true))
                let once = try PipelineHTTPClient(
                    pipeline: single, httpClient: client, upstream: upstream.url, configuration: configuration)
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await once.execute(HTTPClientRequest(url: "/items/2"))
                }
                #expect(error?.code == .attemptTimedOut)
                #expect(error?.isRetryable == true)
                upstream.release()
            }
        }
        #expect(single.windows.totals().stats.failures == 1)
        #expect(single.breaker?.windowCounts.failures == 1)
    }

    @Test func aCooperativePipelineTimeoutShortensTheAttemptsDeadline() async throws {
        let (pipeline, _) = try manualPipeline { Timeout(.milliseconds(200), mode: .cooperative) }
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 200, body: "late", held: true))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url,
                    configuration: .init(attemptTimeout: .seconds(20)))
                let error = await #expect(throws: ResilienceError.self) {
                    try await inventory.execute(HTTPClientRequest(url: "/items/3"))
                }
                #expect(error?.code == .timedOut)
                upstream.release()
            }
        }
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 1 && stats.timeouts == 1)
    }

    @Test func aBodyThatCanBeSentOnceIsNotRetried() async throws {
        let (pipeline, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
        }
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            try await withHTTPClient { client in
                let orders = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                var request = HTTPClientRequest(url: "/orders/1")
                request.method = .PUT
                request.body = .stream(
                    AsyncStream { continuation in
                        continuation.yield(ByteBuffer(string: "streamed"))
                        continuation.finish()
                    }, length: .unknown)
                upstream.answer(.init(status: 503, body: "busy"))
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await orders.execute(request)
                }
                #expect(error?.code == .failureStatus && error?.isRetryable == false)
                #expect(upstream.received.map(\.body) == ["streamed"])

                // The same request with a replayable body: sent again, whole.
                upstream.answer(.init(status: 503, body: "busy"))
                let response = try await orders.execute(request, body: .bytes(Array("replayed".utf8)))
                #expect(response.status == .ok)
                #expect(upstream.received.map(\.body) == ["streamed", "replayed", "replayed"])
                #expect(upstream.received.map(\.method) == ["PUT", "PUT", "PUT"])
            }
        }
    }

    @Test func nonIdempotentMethodsAreNotRetriedOnceAnswered() async throws {
        let (pipeline, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .zero, jitter: .none, budgetRatio: nil)
        }
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            try await withHTTPClient { client in
                var request = HTTPClientRequest(url: "/payments")
                request.method = .POST
                upstream.answer(.init(status: 503))
                let payments = try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstream: upstream.url)
                let error = await #expect(throws: PipelineHTTPClientError.self) {
                    try await payments.execute(request, body: .bytes(ByteBuffer(string: "{}")))
                }
                #expect(error?.isRetryable == false)
                #expect(upstream.received.count == 1)

                // Opted in (the upstream deduplicates by an idempotency key).
                upstream.answer(.init(status: 503))
                let retried = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url,
                    configuration: .init(retryableMethods: PipelineHTTPClient.idempotentMethods + [.POST]))
                #expect(try await retried.execute(request, body: .bytes(ByteBuffer(string: "{}"))).status == .ok)
                #expect(upstream.received.count == 3)
            }
        }
    }

    @Test func variantsGoToTheirOwnUpstreamsAndKeysStick() async throws {
        let (pipeline, _) = try manualPipeline { TrafficSplit([("stable", 50), ("canary", 50)]) }
        try await TestUpstream.with(["stable", "canary"]) { upstreams in
            let (stable, canary) = (upstreams[0], upstreams[1])
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client,
                    upstreams: ["stable": stable.url, "canary": "\(canary.url)/v2/"])
                var first: [String: String] = [:]
                for round in 0..<2 {
                    for user in (0..<20).map({ "user-\($0)" }) {
                        let response = try await inventory.execute(HTTPClientRequest(url: "/items/42"), key: user)
                        let answeredBy = try await response.text()
                        if round == 0 {
                            first[user] = answeredBy
                        } else {
                            #expect(first[user] == answeredBy, "\(user) moved")
                        }
                    }
                }
                #expect(Set(first.values) == ["stable", "canary"])
                let canaryUsers = first.values.filter { $0 == "canary" }.count
                #expect(canary.received.count == 2 * canaryUsers)
                #expect(stable.received.count == 40 - 2 * canaryUsers)
            }
            #expect(Set(stable.received.map(\.path)) == ["/items/42"])
            #expect(Set(canary.received.map(\.path)) == ["/v2/items/42"])
        }
        // The variants' statistics saw their own calls.
        let variants = pipeline.variantWindows.map { $0.windows.totals().stats.calls }
        #expect(variants.reduce(0, +) == 40 && variants.allSatisfy { $0 > 0 })
    }

    @Test func hedgingSendsASecondRequestWhenTheFirstIsSlow() async throws {
        let (pipeline, _) = try manualPipeline { CircuitBreaker() }
        let hedgeClock = ManualClock()
        let delay = try Adaptive<Duration>(
            name: "inventory.hedge.delay", kind: .duration, default: .milliseconds(100), bounds: 0.001...10)
        let hedging = HTTPHedging(Hedging(delay: delay, maxAttempts: 2, clock: hedgeClock))
        try await TestUpstream.with { upstreams in
            let upstream = upstreams[0]
            upstream.answer(.init(status: 200, body: "slow", held: true))
            try await withHTTPClient { client in
                let inventory = try PipelineHTTPClient(
                    pipeline: pipeline, httpClient: client, upstream: upstream.url,
                    // The deadline only bounds the test should hedging not happen.
                    configuration: .init(attemptTimeout: .seconds(20), hedging: hedging))
                async let response = inventory.execute(HTTPClientRequest(url: "/items/42"))
                await upstream.waitForRequests(1)
                await hedgeClock.waitForSleepers(count: 1)
                hedgeClock.advance(by: .milliseconds(100))
                let answered = try await response
                #expect(try await answered.text() == "upstream")
                #expect(upstream.received.count == 2)

                // A POST is not hedged: no hedge timer while it waits.
                upstream.answer(.init(status: 200, body: "slow", held: true))
                var post = HTTPClientRequest(url: "/orders")
                post.method = .POST
                async let posted = inventory.execute(post, body: .bytes(ByteBuffer(string: "{}")))
                await upstream.waitForRequests(3)
                #expect(hedgeClock.sleeperCount == 0)
                upstream.release()
                #expect(try await posted.text() == "slow")
            }
            #expect(upstream.received.count == 3)
        }
        let stats = pipeline.windows.totals().stats
        #expect(stats.calls == 2 && stats.successes == 2)
    }

    /// Only an error without an answer that another request could avoid sends the next hedge at once.
    @Test func onlyATransientErrorWithoutAnAnswerLetsAHedgeGroupGoOn() {
        func error(_ code: PipelineHTTPClientError.Code, retryable: Bool) -> PipelineHTTPClientError {
            PipelineHTTPClientError(code, "test", isRetryable: retryable)
        }
        #expect(PipelineHTTPClient.hedgeGroupGoesOn(after: error(.connectionFailed, retryable: true)))
        #expect(PipelineHTTPClient.hedgeGroupGoesOn(after: error(.attemptTimedOut, retryable: true)))
        #expect(!PipelineHTTPClient.hedgeGroupGoesOn(after: error(.requestFailed, retryable: false)))
        let answered = PipelineHTTPClientError(
            .failureStatus, "503", response: HTTPClientResponse(status: .serviceUnavailable), isRetryable: true)
        #expect(!PipelineHTTPClient.hedgeGroupGoesOn(after: answered))
        #expect(!PipelineHTTPClient.hedgeGroupGoesOn(after: ResilienceError(.timedOut, pipeline: "inventory", "timed out")))
        #expect(!PipelineHTTPClient.hedgeGroupGoesOn(after: CancellationError()))
    }
}
