/// A policy that can be placed in a ``Pipeline``.
public protocol PipelinePolicy: Sendable {
    /// The policy as a pipeline component.
    var component: PipelineComponent { get }
}

/// One policy of a pipeline, in the order written (outermost first).
public struct PipelineComponent: Sendable {
    enum Spec: Sendable {
        case timeout(Timeout)
        case retry(Retry)
        case breaker(CircuitBreaker)
        case bulkhead(Bulkhead)
        case rateLimit(RateLimit)
        case split(TrafficSplit)
    }

    let spec: Spec

    init(_ spec: Spec) { self.spec = spec }

    /// The policy's part of knob names: `timeout`, `retry`, `breaker`, `bulkhead`, `ratelimit`, `split`.
    public var policyName: String {
        switch spec {
        case .timeout: "timeout"
        case .retry: "retry"
        case .breaker: "breaker"
        case .bulkhead: "bulkhead"
        case .rateLimit: "ratelimit"
        case .split: "split"
        }
    }

    /// The knobs this policy gives a pipeline named `pipeline`, with their
    /// bounds and initial values (for readers that check a configuration
    /// before building the pipeline).
    public func knobDescriptors(pipeline: String) -> [KnobDescriptor] { knobs(pipeline: pipeline) }

    func knobs(pipeline: String) -> [KnobDescriptor] {
        switch spec {
        case .timeout(let s): Timeout.knobs(pipeline, s)
        case .retry(let s): Retry.knobs(pipeline, s)
        case .breaker(let s): CircuitBreaker.knobs(pipeline, s)
        case .bulkhead(let s): Bulkhead.knobs(pipeline, s)
        case .rateLimit(let s): RateLimit.knobs(pipeline, s)
        case .split(let s): TrafficSplit.knobs(pipeline, s)
        }
    }
}

/// Collects the policies of a pipeline written one per line.
///
/// ```swift
/// let checkout = try Pipeline("checkout") {
///     Timeout(.seconds(2))
///     Retry(maxAttempts: 3)
///     CircuitBreaker(failureRate: 0.5)
///     Bulkhead(maxConcurrent: 64, maxQueued: 128, queueTimeout: .milliseconds(200))
/// }
/// ```
@resultBuilder
public enum PolicyBuilder {
    /// One policy.
    public static func buildExpression(_ policy: some PipelinePolicy) -> [PipelineComponent] { [policy.component] }
    /// Several policies (a preset).
    public static func buildExpression(_ components: [PipelineComponent]) -> [PipelineComponent] { components }
    /// The policies in order.
    public static func buildBlock(_ parts: [PipelineComponent]...) -> [PipelineComponent] { parts.flatMap { $0 } }
    /// A policy under `if`.
    public static func buildOptional(_ part: [PipelineComponent]?) -> [PipelineComponent] { part ?? [] }
    /// The taken branch of `if`/`else`.
    public static func buildEither(first part: [PipelineComponent]) -> [PipelineComponent] { part }
    /// The taken branch of `if`/`else`.
    public static func buildEither(second part: [PipelineComponent]) -> [PipelineComponent] { part }
    /// Policies from a `for` loop.
    public static func buildArray(_ parts: [[PipelineComponent]]) -> [PipelineComponent] { parts.flatMap { $0 } }
}
