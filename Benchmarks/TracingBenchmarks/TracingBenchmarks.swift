import Benchmark
import InMemoryTracing
import Resilience
import SentinelTracing
import Tracing

// What tracing a pipeline call costs: nothing bootstrapped (the default
// no-op), the per-call report alone, and an in-memory tracer. Compare with
// `pipeline: ratelimit+retry+breaker+bulkhead` in ResilienceBenchmarks. See docs/tracing.md.

@inline(never)
func rawOperation(_ value: Int) async throws -> Int { value &+ 1 }

private let registry = ParameterRegistry()

private let pipeline: Pipeline = {
    do {
        return try Pipeline("traced", registry: registry, seed: 1) {
            RateLimit(rate: 1e7, algorithm: .tokenBucket(burst: 1e7))
            Retry(maxAttempts: 3, budgetRatio: 0.2)
            CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
            Bulkhead(maxConcurrent: 1000)
        }
    } catch {
        fatalError("benchmark pipeline: \(error)")
    }
}()
private let traced = TracedPipeline(pipeline)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 200)

    Benchmark("look-up: InstrumentationSystem.instrument") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(type(of: InstrumentationSystem.instrument) == NoOpInstrument.self) }
    }

    Benchmark("look-up: ServiceContext.current (a task-local read)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(ServiceContext.current == nil) }
    }

    Benchmark("execute (untraced)") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await pipeline.execute { _ in try await rawOperation(i) })
        }
    }

    Benchmark("execute(report:)") { benchmark in
        for i in benchmark.scaledIterations {
            let report = CallReport()
            blackHole(try await pipeline.execute(report: report) { _ in try await rawOperation(i) })
            blackHole(report.attempts)
        }
    }

    Benchmark("tracedExecute, no tracer") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try await traced.execute { _ in try await rawOperation(i) })
        }
    }

    Benchmark("tracedExecute, in-memory tracer", configuration: .init(scalingFactor: .one, maxIterations: 50_000)) { benchmark in
        let tracer = InMemoryTracer()
        let withTracer = TracedPipeline(pipeline, configuration: .init(tracer: tracer))
        for i in benchmark.scaledIterations {
            blackHole(try await withTracer.execute { _ in try await rawOperation(i) })
            if i % 1024 == 0 { tracer.clearAll() }
        }
    }
}
