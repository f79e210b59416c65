import InMemoryTracing
import Resilience
import Testing
import Tracing

@testable import SentinelTracing

@Suite struct TracedPipelineTests {
    @Test func aCallIsOneSpanWithEveryAttribute() async throws {
        let (pipeline, _, _) = try manualPipeline {
            Retry(maxAttempts: 3, budgetRatio: nil)
            CircuitBreaker()
            TrafficSplit([("stable", 100), ("canary", 0)])
        }
        let tracer = InMemoryTracer()
        let traced = TracedPipeline(pipeline, configuration: .init(tracer: tracer))
        let value = try await traced.execute(key: "user-1") { call in
            #expect(call.variant == "stable")
            return 42
        }
        #expect(value == 42)
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.operationName == "pipeline checkout")
        #expect(span.parentSpanID == nil)
        #expect(span.attribute(PipelineSpanAttribute.pipeline) == .string("checkout"))
        #expect(span.attribute(PipelineSpanAttribute.variant) == .string("stable"))
        #expect(span.attribute(PipelineSpanAttribute.attempts) == .int64(1))
        #expect(span.attribute(PipelineSpanAttribute.breakerState) == .string("closed"))
        #expect(span.attribute(PipelineSpanAttribute.outcome) == .string("success"))
        #expect(span.attribute(PipelineSpanAttribute.shadowOutcome) == nil)
        #expect(span.attribute(PipelineSpanAttribute.shadowDisagreed) == nil)
        #expect(span.events.isEmpty && span.errors.isEmpty && span.status == nil)
        // The pipeline's statistics count the call as usual.
        #expect(pipeline.windows.stats(.tenSeconds, now: pipeline.time.now()).successes == 1)
    }

    @Test func aFailedCallRecordsTheErrorOnItsSpan() async throws {
        let (pipeline, _, _) = try manualPipeline { CircuitBreaker() }
        let tracer = InMemoryTracer()
        await #expect(throws: BackendError.self) {
            try await pipeline.tracedExecute(configuration: .init(tracer: tracer)) { _ -> Int in throw BackendError() }
        }
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.attribute(PipelineSpanAttribute.outcome) == .string("failure"))
        #expect(span.attribute(PipelineSpanAttribute.attempts) == .int64(1))
        #expect(span.status?.code == .error)
        #expect(span.errors.count == 1)
        #expect(span.errors.first?.error is BackendError)
    }

    @Test func retriesAreEventsWithTheirAttemptAndDelay() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
        }
        let tracer = InMemoryTracer()
        let traced = TracedPipeline(pipeline, configuration: .init(tracer: tracer))
        async let result: Int = traced.execute { call in
            if call.attempt < 3 { throw BackendError() }
            return call.attempt
        }
        for _ in 0..<2 {
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .milliseconds(100))
        }
        #expect(try await result == 3)
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.attribute(PipelineSpanAttribute.attempts) == .int64(3))
        #expect(span.attribute(PipelineSpanAttribute.outcome) == .string("success"))
        #expect(span.events.map(\.name) == ["retry", "retry"])
        #expect(span.events.map { $0.attribute(PipelineSpanAttribute.retryAttempt) } == [.int64(2), .int64(3)])
        #expect(span.events.allSatisfy { $0.attribute(PipelineSpanAttribute.retryDelay) == .double(0.1) })
        // Placed on the pipeline's clock after the span's start: the second retry was decided 100 ms after the first.
        #expect(span.events[0].nanosecondsSinceEpoch == span.startInstant.nanosecondsSinceEpoch)
        #expect(span.events[1].nanosecondsSinceEpoch - span.events[0].nanosecondsSinceEpoch == 100_000_000)
    }

    @Test func retryEventsCanBeLeftOut() async throws {
        let (pipeline, _, _) = try manualPipeline { Retry(maxAttempts: 2, baseDelay: .zero, jitter: .none, budgetRatio: nil) }
        let tracer = InMemoryTracer()
        let traced = TracedPipeline(pipeline, configuration: .init(recordsRetries: false, tracer: tracer))
        _ = try await traced.execute { call in
            if call.attempt < 2 { throw BackendError() }
            return 1
        }
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.attribute(PipelineSpanAttribute.attempts) == .int64(2))
        #expect(span.events.isEmpty)
    }

    @Test func anOpenBreakersRejectionIsAnErrorSpan() async throws {
        let (pipeline, _, _) = try manualPipeline {
            Retry(maxAttempts: 3, budgetRatio: nil)
            CircuitBreaker()
        }
        pipeline.breaker?.forceOpen()
        let tracer = InMemoryTracer()
        let ran = await #expect(throws: ResilienceError.self) {
            try await pipeline.tracedExecute(configuration: .init(tracer: tracer)) { _ in 1 }
        }
        #expect(ran?.code == .circuitOpen)
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.attribute(PipelineSpanAttribute.outcome) == .string("rejected_by_breaker"))
        #expect(span.attribute(PipelineSpanAttribute.breakerState) == .string("open"))
        // A rejection is not retried.
        #expect(span.attribute(PipelineSpanAttribute.attempts) == .int64(1))
        #expect(span.events.isEmpty)
        #expect(span.status?.code == .error)
        #expect((span.errors.first?.error as? ResilienceError)?.code == .circuitOpen)
    }

    @Test func theVariantComesFromTheTrafficSplit() async throws {
        let (pipeline, _, _) = try manualPipeline { TrafficSplit([("stable", 0), ("canary", 100)]) }
        let tracer = InMemoryTracer()
        let variant = try await pipeline.tracedExecute(key: "user-7", configuration: .init(tracer: tracer)) { $0.variant }
        #expect(variant == "canary")
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.attribute(PipelineSpanAttribute.variant) == .string("canary"))
    }

    @Test func aShadowThatWouldHaveFailedDisagrees() async throws {
        let (pipeline, clock, registry) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(10), jitter: .none, budgetRatio: nil)
        }
        // Live retries up to 3 times; the shadow would have stopped after 1.
        try registry.apply([.setShadow("checkout.retry.max_attempts", 1)])
        let tracer = InMemoryTracer()
        let traced = TracedPipeline(pipeline, configuration: .init(tracer: tracer))
        async let result: Int = traced.execute { call in
            if call.attempt < 2 { throw BackendError() }
            return 1
        }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(10))
        _ = try await result
        // The next call succeeds at once: live and shadow agree.
        _ = try await traced.execute { _ in 2 }
        let spans = tracer.finishedSpans
        try #require(spans.count == 2)
        #expect(spans[0].attribute(PipelineSpanAttribute.outcome) == .string("success"))
        #expect(spans[0].attribute(PipelineSpanAttribute.shadowOutcome) == .string("failure"))
        #expect(spans[0].attribute(PipelineSpanAttribute.shadowDisagreed) == .bool(true))
        #expect(spans[1].attribute(PipelineSpanAttribute.shadowOutcome) == .string("success"))
        #expect(spans[1].attribute(PipelineSpanAttribute.shadowDisagreed) == .bool(false))
    }

    @Test func theSpanIsAChildOfTheCurrentContextAndParentsTheOperationsSpans() async throws {
        let (pipeline, _, _) = try manualPipeline { CircuitBreaker() }
        let tracer = InMemoryTracer()
        let traced = TracedPipeline(pipeline, configuration: .init(tracer: tracer))
        try await tracer.withSpan("request") { _ in
            try await traced.execute { _ in
                tracer.withSpan("backend") { _ in }
            }
        }
        let spans = Dictionary(uniqueKeysWithValues: tracer.finishedSpans.map { ($0.operationName, $0) })
        let request = try #require(spans["request"])
        let call = try #require(spans["pipeline checkout"])
        let backend = try #require(spans["backend"])
        #expect(call.traceID == request.traceID && call.parentSpanID == request.spanID)
        #expect(backend.traceID == request.traceID && backend.parentSpanID == call.spanID)
    }

    @Test func aCallMadeInATracersScopeUsesIt() async throws {
        let (pipeline, _, _) = try manualPipeline {}
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            _ = try await pipeline.tracedExecute(configuration: .init(spanName: "charge", kind: .client)) { _ in 1 }
        }
        let span = try #require(tracer.finishedSpans.only)
        #expect(span.operationName == "charge")
        #expect(span.kind == .client)
        #expect(span.attribute(PipelineSpanAttribute.breakerState) == nil)  // no breaker
    }

    @Test func withoutATracerNothingIsTracedAndTheCallRuns() async throws {
        let (pipeline, _, _) = try manualPipeline { Retry(maxAttempts: 2, baseDelay: .zero, jitter: .none, budgetRatio: nil) }
        // Nothing is bootstrapped in the test process, and no `withTracer` scope is active.
        #expect(ActiveTracer.find(nil) == nil)
        #expect(ActiveTracer.find(NoOpTracer()) == nil)
        let bystander = InMemoryTracer()
        let value = try await pipeline.tracedExecute { call in
            if call.attempt < 2 { throw BackendError() }
            return call.attempt
        }
        #expect(value == 2)
        #expect(bystander.finishedSpans.isEmpty && bystander.activeSpans.isEmpty)
        #expect(pipeline.windows.stats(.tenSeconds, now: pipeline.time.now()).successes == 1)
    }
}

extension Collection {
    /// The one element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
