import Tracing

extension TracedPipeline {
    /// How a ``TracedPipeline`` makes its spans.
    public struct Configuration: Sendable {
        /// The span's name; nil (the default) names it `pipeline NAME` after the pipeline.
        public var spanName: String?
        /// The span's kind (`.internal` by default; `.client` when the
        /// pipeline wraps calls to another service and no client span is made below it).
        public var kind: SpanKind
        /// Whether each retry becomes a `retry` event on the span (true by default).
        public var recordsRetries: Bool
        /// The tracer to use; nil (the default) uses the active one: a `withTracer`
        /// scope's, else the one bootstrapped in `InstrumentationSystem`.
        public var tracer: (any Tracer)?

        /// Makes a configuration; every argument has a default.
        public init(spanName: String? = nil, kind: SpanKind = .internal, recordsRetries: Bool = true, tracer: (any Tracer)? = nil) {
            self.spanName = spanName
            self.kind = kind
            self.recordsRetries = recordsRetries
            self.tracer = tracer
        }
    }
}
