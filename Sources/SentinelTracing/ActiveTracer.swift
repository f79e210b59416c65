import Tracing

/// Finds the tracer spans go to, or learns cheaply that they would go nowhere.
enum ActiveTracer {
    /// `configured` if given, else the active tracer; nil when it is a no-op.
    ///
    /// With nothing bootstrapped and no `withTracer` scope this is one
    /// task-local read, one read lock and one type check.
    static func find(_ configured: (any Tracer)?) -> (any Tracer)? {
        if let configured { return configured is NoOpTracer ? nil : configured }
        if InstrumentationSystem.instrument is NoOpInstrument { return nil }
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }
}
