import Hummingbird
import Resilience

/// Runs the requests of a route or a route group through a ``Pipeline``.
///
/// ```swift
/// let checkout = try Pipeline("checkout") {
///     RateLimit(rate: 200, algorithm: .tokenBucket(burst: 50))
///     CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
///     Bulkhead(maxConcurrent: 64)
///     Timeout(.seconds(2))
///     TrafficSplit([("canary", 5), ("stable", 95)])
/// }
/// let router = Router(context: BasicPipelineRequestContext.self)
/// router.group("checkout")
///     .add(middleware: try PipelineMiddleware(pipeline: checkout, configuration: .init(requestKey: .header(.init("X-User-ID")!))))
///     .post { request, context in try await placeOrder(request, variant: context.pipelineVariant) }
/// ```
///
/// What the pipeline decides becomes the answer (`docs/http.md`):
/// - the rate limiter refuses: **429**, `Retry-After`, `RateLimit-Policy` and `RateLimit`;
/// - an open circuit breaker or a full bulkhead (or its queue timing out): **503**, `Retry-After`;
/// - the timeout ends the call: **504**.
/// Refusals are thrown as `HTTPError`, so the application's error middleware shapes their body.
///
/// The handler's answer is classified (``ResponseClassification``, 5xx failures by default)
/// and recorded in the pipeline's windows and breaker; the response itself goes back unchanged.
/// With a rate limiter in the pipeline, every response can also carry the rate-limit fields
/// (``Configuration/rateLimitFields``; by default only refusals do).
///
/// The handler runs at most once per request: a pipeline with a `Retry` is refused, since
/// retrying would run the handler again on a request whose body has been read.
public struct PipelineMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Which responses carry the rate-limit fields.
    public enum RateLimitFieldPlacement: Sendable, Hashable {
        /// Every response of a pipeline with a rate limiter (what the draft intends: clients pace
        /// themselves); costs about 2 µs more per request (formatting, and a read of the limiter).
        case everyResponse
        /// Only the 429 refusals (the default).
        case refusalsOnly
    }

    /// How requests are keyed and answers classified and annotated.
    public struct Configuration: Sendable {
        /// Where a request's traffic-split key comes from; `nil`: requests are split at random.
        public var requestKey: RequestKey?
        /// Which statuses count as failures.
        public var classification: ResponseClassification
        /// Which responses carry `RateLimit-Policy` and `RateLimit`.
        public var rateLimitFields: RateLimitFieldPlacement
        /// Also write the older `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
        /// (drafts 00 to 06); off by default.
        public var legacyRateLimitFields: Bool
        /// The quota policy's identifier in the rate-limit fields (printable ASCII).
        public var rateLimitPolicy: String
        /// `Retry-After` of a 503 when the policy cannot tell (a full bulkhead, a forced-open breaker).
        public var unknownRetryAfter: Duration

        /// Makes a configuration; every setting has a default.
        public init(
            requestKey: RequestKey? = nil,
            classification: ResponseClassification = .serverErrors,
            rateLimitFields: RateLimitFieldPlacement = .refusalsOnly,
            legacyRateLimitFields: Bool = false,
            rateLimitPolicy: String = "default",
            unknownRetryAfter: Duration = .seconds(1)
        ) {
            self.requestKey = requestKey
            self.classification = classification
            self.rateLimitFields = rateLimitFields
            self.legacyRateLimitFields = legacyRateLimitFields
            self.rateLimitPolicy = rateLimitPolicy
            self.unknownRetryAfter = unknownRetryAfter
        }
    }

    /// The pipeline requests run through.
    public let pipeline: Pipeline
    /// The configuration.
    public let configuration: Configuration
    let recordVariant: (@Sendable (inout Context, String?) -> Void)?
    let annotatesEveryResponse: Bool

    /// Runs requests through `pipeline`; the handler does not learn the variant
    /// (adopt ``PipelineRequestContext`` for that).
    ///
    /// - Throws: ``PipelineMiddlewareError`` when the pipeline retries or the policy name is malformed.
    public init(pipeline: Pipeline, configuration: Configuration = .init()) throws(PipelineMiddlewareError) {
        try self.init(checking: pipeline, configuration, recordVariant: nil)
    }

    /// Runs requests through the pipeline registered as `name` in `registry`.
    ///
    /// - Throws: ``PipelineMiddlewareError`` when there is no such pipeline, it retries,
    ///   or the policy name is malformed.
    public init(
        named name: String, in registry: ParameterRegistry = .shared, configuration: Configuration = .init()
    ) throws(PipelineMiddlewareError) {
        try self.init(checking: try Self.lookUp(name, registry), configuration, recordVariant: nil)
    }

    init(
        checking pipeline: Pipeline, _ configuration: Configuration,
        recordVariant: (@Sendable (inout Context, String?) -> Void)?
    ) throws(PipelineMiddlewareError) {
        if pipeline.components.contains(where: { $0.policyName == "retry" }) {
            throw PipelineMiddlewareError(
                .replaysRequests,
                "\(pipeline.name): a pipeline in front of a route must not retry (the handler would run again); "
                    + "retry in the client, or around the handler's own outgoing calls")
        }
        guard RateLimitFields.isValidPolicyName(configuration.rateLimitPolicy) else {
            throw PipelineMiddlewareError(
                .malformedPolicyName,
                "rateLimitPolicy \"\(configuration.rateLimitPolicy)\": use printable ASCII, at least one character")
        }
        self.pipeline = pipeline
        self.configuration = configuration
        self.recordVariant = recordVariant
        annotatesEveryResponse = configuration.rateLimitFields == .everyResponse && pipeline.rateLimiter != nil
    }

    static func lookUp(_ name: String, _ registry: ParameterRegistry) throws(PipelineMiddlewareError) -> Pipeline {
        guard let pipeline = registry.pipeline(named: name) else {
            throw PipelineMiddlewareError(.unknownPipeline, "no pipeline named \"\(name)\" is registered")
        }
        return pipeline
    }

    /// Runs the request through the pipeline and answers for it.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let key = configuration.requestKey?.value(of: request, context: context)
        var response: Response
        do {
            let answer = try await withoutActuallyEscaping(next) { next in
                let handler = Handler(next: next, classification: configuration.classification, recordVariant: recordVariant)
                return try await pipeline.execute(key: key) { call in
                    try await handler.run(request, context, variant: call.variant)
                }
            }
            switch answer {
            case .response(let answered): response = answered
            case .thrown(let error): throw error
            }
        } catch let failure as HandlerFailure {
            switch failure.answer {
            case .response(let answered): response = answered
            case .thrown(let error): throw error
            }
        } catch let refusal as ResilienceError {
            throw self.refusal(refusal)
        }
        if annotatesEveryResponse, let status = pipeline.rateLimitStatus() {
            RateLimitFields(policy: configuration.rateLimitPolicy, status: status)
                .write(to: &response.headers, legacy: configuration.legacyRateLimitFields)
        }
        return response
    }
}

// MARK: - The handler inside the pipeline

/// What the handler answered, as the pipeline's operation returns or throws it.
enum HandlerAnswer: Sendable {
    case response(Response)
    case thrown(any Error)
}

/// A handler's answer that the classification counts as a failure: thrown
/// through the pipeline so that its windows and breaker record a failure,
/// then unwrapped into the handler's own answer.
struct HandlerFailure: Error {
    let answer: HandlerAnswer
}

/// The rest of the responder chain, called from the pipeline's operation.
private struct Handler<Context: RequestContext>: @unchecked Sendable {
    // @unchecked: `next` is Hummingbird's responder chain, built of Sendable responders; it is
    // called once, in this task or (enforced timeout) in a child task this task awaits.
    let next: (Request, Context) async throws -> Response
    let classification: ResponseClassification
    let recordVariant: (@Sendable (inout Context, String?) -> Void)?

    func run(_ request: Request, _ context: Context, variant: String?) async throws -> HandlerAnswer {
        var context = context
        recordVariant?(&context, variant)
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as CancellationError {
            // Not the handler's fault: rethrown as is, so the breaker skips it (the windows record a failure).
            throw error
        } catch let error as any HTTPResponseError where !classification.isFailure(error.status) {
            return .thrown(error)
        } catch {
            throw HandlerFailure(answer: .thrown(error))
        }
        if classification.isFailure(response.status) { throw HandlerFailure(answer: .response(response)) }
        return .response(response)
    }
}
