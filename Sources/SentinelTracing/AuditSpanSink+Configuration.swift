import Tracing

extension AuditSpanSink {
    /// How an ``AuditSpanSink`` makes its spans.
    public struct Configuration: Sendable {
        /// The spans' name (`sentinel` by default).
        public var spanName: String
        /// Evaluations whose spans may be open at once (64 by default); beyond
        /// that the oldest ends.
        public var maximumOpenSpans: Int
        /// Events on one span (256 by default); an evaluation that decides more
        /// continues on a new span.
        public var maximumEventsPerSpan: Int
        /// Whether events carry the command's arguments, evidence and result as
        /// JSON text (true by default). They can be large; the audit log has them either way.
        public var recordsArguments: Bool
        /// The tracer to use; nil (the default) uses the active one: a `withTracer`
        /// scope's around the code that appends to the audit, else the one
        /// bootstrapped in `InstrumentationSystem`.
        public var tracer: (any Tracer)?

        /// Makes a configuration; every argument has a default.
        public init(
            spanName: String = "sentinel", maximumOpenSpans: Int = 64, maximumEventsPerSpan: Int = 256,
            recordsArguments: Bool = true, tracer: (any Tracer)? = nil
        ) {
            self.spanName = spanName
            self.maximumOpenSpans = maximumOpenSpans
            self.maximumEventsPerSpan = maximumEventsPerSpan
            self.recordsArguments = recordsArguments
            self.tracer = tracer
        }
    }
}
