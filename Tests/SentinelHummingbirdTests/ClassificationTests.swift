import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Resilience
import SentinelHummingbird
import Testing

/// Which answers of the handler the pipeline records as failures, and that the
/// middleware neither loses nor repeats a request.
@Suite struct ClassificationTests {
    @Test(arguments: [
        (HTTPResponse.Status.ok, false), (.created, false), (.notFound, false), (.tooManyRequests, false),
        (.internalServerError, true), (.badGateway, true), (.serviceUnavailable, true),
    ])
    func returnedStatusIsClassifiedAndPassedOnUnchanged(status: HTTPResponse.Status, failure: Bool) async throws {
        let route = try RouteFixture { CircuitBreaker() }
        try await route.test(handler: answering(status)) { client async throws in
            #expect(try await client.get("/r").status == status)
        }
        #expect(route.totals.calls == 1)
        #expect(route.totals.failures == (failure ? 1 : 0))
        #expect(route.pipeline.breaker?.windowCounts.failures == (failure ? 1 : 0))
    }

    @Test(arguments: [(HTTPResponse.Status.notFound, false), (.badRequest, false), (.internalServerError, true), (.badGateway, true)])
    func thrownHTTPErrorIsClassifiedByItsStatus(status: HTTPResponse.Status, failure: Bool) async throws {
        let route = try RouteFixture { CircuitBreaker() }
        try await route.test(handler: { _, _ in throw HTTPError(status, message: "from the handler") }) { client async throws in
            let response = try await client.get("/r")
            #expect(response.status == status)
            #expect(String(buffer: response.body).contains("from the handler"))
        }
        #expect(route.totals.failures == (failure ? 1 : 0))
    }

    @Test func otherThrownErrorIsAFailureAndReachesTheApplication() async throws {
        struct Broken: Error {}
        let route = try RouteFixture { CircuitBreaker() }
        try await route.test(handler: { _, _ in throw Broken() }) { client async throws in
            #expect(try await client.get("/r").status == .internalServerError)
        }
        #expect(route.totals.failures == 1)
    }

    @Test func clientErrorsCountAsFailuresWhenConfigured() async throws {
        let route = try RouteFixture { CircuitBreaker(failureRate: 0.5, minimumCalls: 3) }
        try await route.test(.init(classification: .clientAndServerErrors), handler: answering(.notFound)) { client async throws in
            for _ in 0..<3 { #expect(try await client.get("/r").status == .notFound) }
            #expect(try await client.get("/r").status == .serviceUnavailable)
        }
        #expect(route.totals.failures == 4)
        #expect(route.totals.breakerRejections == 1)
    }

    @Test func customClassification() async throws {
        let route = try RouteFixture { CircuitBreaker() }
        let onlyBadGateway = ResponseClassification { $0 == .badGateway }
        try await route.test(.init(classification: onlyBadGateway), handler: answering(.internalServerError)) { client async throws in
            #expect(try await client.get("/r").status == .internalServerError)
        }
        #expect(route.totals.failures == 0)
        #expect(onlyBadGateway.isFailure(.badGateway))
    }

    @Test func everyRequestRunsTheHandlerOnceOrIsRefused() async throws {
        let route = try RouteFixture {
            RateLimit(rate: 50, algorithm: .tokenBucket(burst: 40))
            CircuitBreaker(failureRate: 0.9, minimumCalls: 1000)
            Bulkhead(maxConcurrent: 200)
            Timeout(.seconds(5), mode: .cooperative)
        }
        let statuses: [HTTPResponse.Status] = [.ok, .notFound, .internalServerError, .created]
        let served = CallCounter()
        let handler: RouteFixture.Handler = { _, _ in Response(status: statuses[served.increment() % statuses.count]) }
        let answered = try await route.test(handler: handler) { client async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await client.get("/r").status }
                }
                var answered: [HTTPResponse.Status] = []
                for try await status in group { answered.append(status) }
                return answered
            }
        }
        #expect(answered.count == 100)
        let refused = answered.filter { $0 == .tooManyRequests || $0 == .serviceUnavailable }.count
        #expect(refused == 60)  // 40 saved permits, no time passes
        #expect(route.handlerCalls.value + refused == 100)
        #expect(route.totals.calls == 100)
        #expect(route.totals.successes == 30)
        #expect(route.totals.failures == 70)  // 10 answered 500, 60 refused
    }

    @Test func pipelineThatRetriesIsRefused() throws {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("retrying", registry: registry) { Retry(maxAttempts: 2) }
        #expect(throws: PipelineMiddlewareError.self) {
            try PipelineMiddleware<BasicPipelineRequestContext>(pipeline: pipeline)
        }
    }

    @Test func pipelineIsFoundByName() throws {
        let registry = ParameterRegistry()
        _ = try Pipeline("named", registry: registry) { Bulkhead(maxConcurrent: 2) }
        let middleware = try PipelineMiddleware<BasicPipelineRequestContext>(named: "named", in: registry)
        #expect(middleware.pipeline.name == "named")
        let missing = #expect(throws: PipelineMiddlewareError.self) {
            try PipelineMiddleware<BasicPipelineRequestContext>(named: "absent", in: registry)
        }
        #expect(missing?.code == .unknownPipeline)
    }

    @Test func malformedPolicyNameIsRefused() throws {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("p", registry: registry) { RateLimit(rate: 1) }
        let error = #expect(throws: PipelineMiddlewareError.self) {
            try PipelineMiddleware<BasicPipelineRequestContext>(pipeline: pipeline, configuration: .init(rateLimitPolicy: "é"))
        }
        #expect(error?.code == .malformedPolicyName)
    }
}
