import Benchmark
import HTTPTypes
import Hummingbird
import Logging
import Resilience
import SentinelHummingbird

// The middleware's own cost per request: the same router answers a bare route
// and routes behind `PipelineMiddleware`, called in process (no socket, no
// HTTP parsing), so the difference between them is what the middleware and
// its pipeline add. See docs/http.md.

/// Where the benchmark's contexts come from (no channel: the router is called directly).
struct BenchmarkSource: RequestContextSource {
    let logger: Logger
}

/// A request context that learns the variant, made without a channel.
struct BenchmarkContext: PipelineRequestContext {
    typealias Source = BenchmarkSource
    var coreContext: CoreRequestContextStorage
    var pipelineVariant: String?

    init(source: BenchmarkSource) {
        coreContext = .init(source: source)
        pipelineVariant = nil
    }
}

private let registry = ParameterRegistry()

/// Rate limiter, breaker, bulkhead and cooperative timeout: the pipeline the 2 µs goal is about.
private func fourPolicies(_ name: String, split: Bool = false) -> Pipeline {
    do {
        return try Pipeline(name, registry: registry, seed: 1) {
            RateLimit(rate: 1e7, algorithm: .tokenBucket(burst: 1e7))
            CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
            Bulkhead(maxConcurrent: 1000)
            Timeout(.seconds(10), mode: .cooperative)
            if split { TrafficSplit([("canary", 10), ("stable", 90)]) }
        }
    } catch {
        fatalError("benchmark pipeline \(name): \(error)")
    }
}

private func middleware(
    _ pipeline: Pipeline, _ configuration: PipelineMiddleware<BenchmarkContext>.Configuration = .init()
) -> PipelineMiddleware<BenchmarkContext> {
    do {
        return try PipelineMiddleware(pipeline: pipeline, configuration: configuration)
    } catch {
        fatalError("benchmark middleware: \(error)")
    }
}

private let userHeader = HTTPField.Name("X-User")!

private let keyedWithFields = PipelineMiddleware<BenchmarkContext>.Configuration(
    requestKey: .header(userHeader), rateLimitFields: .everyResponse)

private let responder: RouterResponder<BenchmarkContext> = {
    let router = Router(context: BenchmarkContext.self)
    let handler: @Sendable (Request, BenchmarkContext) async throws -> Response = { _, _ in Response(status: .ok) }
    router.get("bare", use: handler)
    router.group("guarded")
        .add(middleware: middleware(fourPolicies("guarded"), .init(rateLimitFields: .everyResponse)))
        .get(use: handler)
    router.group("quiet").add(middleware: middleware(fourPolicies("quiet"))).get(use: handler)
    router.group("split")
        .add(middleware: middleware(fourPolicies("split", split: true), keyedWithFields))
        .get(use: handler)
    return router.buildResponder()
}()

private func request(_ path: String) -> Request {
    var head = HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: path)
    head.headerFields[userHeader] = "user-42"
    return Request(head: head, body: .init(buffer: ByteBuffer()))
}

private let context = BenchmarkContext(source: BenchmarkSource(logger: Logger(label: "benchmark")))

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 200)

    for (name, path) in [
        ("http: bare route", "/bare"),
        ("http: middleware, 4 policies, rate-limit fields on every response", "/guarded"),
        ("http: middleware, 4 policies, rate-limit fields on refusals only", "/quiet"),
        ("http: middleware, 4 policies + split keyed by a header", "/split"),
    ] {
        let request = request(path)
        Benchmark(name) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await responder.respond(to: request, context: context))
            }
        }
    }
    clientBenchmarks()
}
