import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Resilience
import SentinelHummingbird
import Synchronization

/// A route group behind the middleware, on a manual clock, tested in process
/// (Hummingbird's `.router` mode: no socket). Routes: `GET /r` and
/// `GET /r/users/:user`, both answered by `handler`.
struct RouteFixture: Sendable {
    typealias Handler = @Sendable (Request, BasicPipelineRequestContext) async throws -> Response

    let clock = ManualClock()
    let registry = ParameterRegistry()
    let pipeline: Pipeline
    /// How many times the handler ran.
    let handlerCalls = CallCounter()

    init(@PolicyBuilder policies: () -> [PipelineComponent]) throws {
        pipeline = try Pipeline("route", registry: registry, time: ClockTimeSource(clock), seed: 7, policies: policies)
    }

    /// Runs `body` against an application whose `/r` routes go through the pipeline.
    func test<Value: Sendable>(
        _ configuration: PipelineMiddleware<BasicPipelineRequestContext>.Configuration = .init(),
        handler: @escaping Handler = { _, _ in Response(status: .ok) },
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let router = Router(context: BasicPipelineRequestContext.self)
        let middleware = try PipelineMiddleware<BasicPipelineRequestContext>(pipeline: pipeline, configuration: configuration)
        let counter = handlerCalls
        let counted: Handler = { request, context in
            counter.increment()
            return try await handler(request, context)
        }
        let group = router.group("r").add(middleware: middleware)
        group.get(use: counted)
        group.get("users/:user", use: counted)
        var logger = Logger(label: "route-fixture")
        logger.logLevel = .critical
        return try await Application(router: router, logger: logger).test(.router, body)
    }

    /// Runs `body` while a first request to `/r` is held inside the handler, then lets
    /// that request finish and returns its status.
    func whileARequestIsInside(
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws -> HTTPResponse.Status {
        let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let handler: Handler = { _, _ in
            enteredSignal.yield()
            for await _ in release { break }
            return Response(status: .ok)
        }
        return try await test(handler: handler) { client async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.get("/r").status }
                for await _ in entered { break }
                try await body(client)
                releaseSignal.yield()
                return try await group.next() ?? .internalServerError
            }
        }
    }

    /// Every call the pipeline recorded, by outcome.
    var totals: WindowStats { pipeline.windows.totals().stats }
}

/// A handler that answers with the variant it was told.
let echoVariant: RouteFixture.Handler = { _, context in
    Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: context.pipelineVariant ?? "none")))
}

/// A handler that answers with a fixed status.
func answering(_ status: HTTPResponse.Status) -> RouteFixture.Handler {
    { _, _ in Response(status: status) }
}

/// Counts from many tasks.
final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Adds one; returns the count before.
    @discardableResult
    func increment() -> Int { count.add(1, ordering: .relaxed).oldValue }

    var value: Int { count.load(ordering: .relaxed) }
}

extension TestClientProtocol {
    /// `GET uri`, with `X-User` set when `user` is given.
    func get(_ uri: String, user: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let user { headers[.user] = user }
        return try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension HTTPField.Name {
    static let user = Self("X-User")!
}
