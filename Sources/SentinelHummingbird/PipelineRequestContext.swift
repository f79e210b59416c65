import Hummingbird

/// A request context that learns which traffic-split variant serves the request.
///
/// ``PipelineMiddleware`` sets ``pipelineVariant`` before it calls the next
/// responder, so the handler reads it from its context, as it reads the
/// route's parameters or an authenticated identity:
///
/// ```swift
/// router.get("/checkout/:user") { request, context in
///     context.pipelineVariant == "canary" ? try await newCheckout() : try await checkout()
/// }
/// ```
///
/// A context that does not adopt this protocol still goes through the
/// middleware; its handler just does not learn the variant.
public protocol PipelineRequestContext: RequestContext {
    /// The traffic-split variant the pipeline chose for this request, or `nil`
    /// when the route's pipeline has no traffic split (or before the middleware ran).
    var pipelineVariant: String? { get set }
}

/// The basic request context with a ``PipelineRequestContext/pipelineVariant``.
public struct BasicPipelineRequestContext: PipelineRequestContext {
    /// Hummingbird's storage for the request's core context (logger, parameters, allocator).
    public var coreContext: CoreRequestContextStorage
    /// The traffic-split variant serving the request, once the middleware chose one.
    public var pipelineVariant: String?

    /// Makes a context for a request from the application.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        pipelineVariant = nil
    }
}
