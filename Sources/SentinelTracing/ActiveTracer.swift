import Tracing

/// Finds the tracer spans go to, or learns cheaply that they would go nowhere.
@usableFromInline
enum ActiveTracer {
    /// `configured` if given, else the active tracer; nil when it is a no-op.
    ///
    /// With nothing bootstrapped and no `withTracer` scope this is one
    /// task-local read, one read lock and one comparison of types.
    @usableFromInline
    static func find(_ configured: (any Tracer)?) -> (any Tracer)? {
        if let configured { return type(of: configured) == NoOpTracer.self ? nil : configured }
        // A metatype comparison, not `is`: a dynamic cast costs more than the rest of the look-up.
        if type(of: InstrumentationSystem.instrument) == NoOpInstrument.self { return nil }
        let tracer = InstrumentationSystem.tracer
        return type(of: tracer) == NoOpTracer.self ? nil : tracer
    }
}
