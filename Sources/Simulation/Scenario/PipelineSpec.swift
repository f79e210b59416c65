import Resilience
import Sentinel

/// One pipeline of a scenario: its policies, what serves its calls, and its traffic.
public struct PipelineSpec: Sendable {
    public var name: String
    /// The policies, outermost first.
    public var components: [PipelineComponent]
    /// The variants of its traffic split, in order (empty without a split).
    public var variants: [String]
    /// One backend for every call, or one per variant.
    public var backends: BackendAssignment
    /// Its own traffic; nil for a pipeline reached only through another (`via`).
    public var traffic: TrafficSpec?
    var location: SourceLocation
}

/// What serves a pipeline's attempts.
public enum BackendAssignment: Sendable {
    /// One backend for the whole pipeline.
    case shared(BackendSpec)
    /// One backend per split variant, in the split's order.
    case perVariant([(variant: String, backend: BackendSpec)])
}
