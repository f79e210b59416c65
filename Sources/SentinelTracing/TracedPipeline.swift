import Resilience
import Tracing

/// A pipeline whose calls become spans: one span per call, a child of the
/// current `ServiceContext`'s span, with the pipeline, the variant, the
/// attempts, the breaker's state, the outcome and the shadow's verdict as
/// attributes, each retry as an event, and the error recorded when the call
/// fails.
///
/// ```swift
/// let traced = TracedPipeline(checkout)
/// let receipt = try await traced.execute(key: user.id) { call in
///     try await payments.charge(order, variant: call.variant)   // its spans nest under the call's
/// }
/// ```
///
/// When no tracer is active (the `InstrumentationSystem`'s default no-op
/// tracer, and no `withTracer` scope), ``execute(key:_:)`` is the plain
/// ``Resilience/Pipeline/execute(key:_:)`` after one look-up of the tracer.
/// See `docs/tracing.md` for the span's attributes and events.
public struct TracedPipeline: Sendable {
    /// The pipeline the calls run through.
    public let pipeline: Pipeline
    /// How the spans are made.
    public let configuration: Configuration

    /// Traces the calls of `pipeline`.
    public init(_ pipeline: Pipeline, configuration: Configuration = Configuration()) {
        self.pipeline = pipeline
        self.configuration = configuration
    }

    /// Runs `operation` through the pipeline inside a span.
    ///
    /// The operation runs with the call's span as the current `ServiceContext`,
    /// so the spans it starts (an HTTP client's, a database's) are children of it.
    ///
    /// - Parameters:
    ///   - key: keeps a caller on one traffic-split variant (for example a user id).
    ///   - operation: the call to protect; receives the variant and attempt number.
    /// - Throws: the operation's error, or `ResilienceError` when a policy refused or ended the call.
    @inlinable
    public func execute<T: Sendable>(
        key: String? = nil,
        _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        // Inlined, so that without a tracer the caller's specialized `Pipeline.execute` runs.
        guard let tracer = ActiveTracer.find(configuration.tracer) else {
            return try await pipeline.execute(key: key, operation)
        }
        return try await execute(key: key, tracer: tracer, operation)
    }

    /// Runs `operation` through the pipeline inside a span.
    @inlinable
    public func execute<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try await execute(key: nil) { _ in try await operation() }
    }

    @usableFromInline
    func execute<T: Sendable>(
        key: String?, tracer: any Tracer, _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        let started = DefaultTracerClock.now
        let span = tracer.startSpan(
            configuration.spanName ?? "pipeline \(pipeline.name)", context: ServiceContext.current ?? .topLevel,
            ofKind: configuration.kind, at: started)
        let report = CallReport()
        do {
            let value = try await ServiceContext.$current.withValue(span.context) {
                try await pipeline.execute(key: key, report: report, operation)
            }
            describe(report, on: span, started: started)
            span.end()
            return value
        } catch {
            describe(report, on: span, started: started)
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: "\(error)"))
            span.end()
            throw error
        }
    }

    /// Writes what the call did on its span.
    private func describe(_ report: CallReport, on span: any Span, started: DefaultTracerClock.Timestamp) {
        let breaker = pipeline.breaker?.state
        span.updateAttributes { attributes in
            attributes[PipelineSpanAttribute.pipeline] = pipeline.name
            attributes[PipelineSpanAttribute.attempts] = report.attempts
            if let variant = report.variant { attributes[PipelineSpanAttribute.variant] = variant }
            if let breaker { attributes[PipelineSpanAttribute.breakerState] = breaker.rawValue }
            if let outcome = report.outcome { attributes[PipelineSpanAttribute.outcome] = outcome.spanValue }
            if let shadow = report.shadowOutcome {
                attributes[PipelineSpanAttribute.shadowOutcome] = shadow.spanValue
                attributes[PipelineSpanAttribute.shadowDisagreed] = report.shadowDisagreed
            }
        }
        guard configuration.recordsRetries else { return }
        for retry in report.retries {
            // Retry times are on the pipeline's time source; place them after the span's start.
            let offset = UInt64(clamping: max(0, retry.time - report.start))
            span.addEvent(
                SpanEvent(
                    name: PipelineSpanAttribute.retryEvent,
                    at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: started.nanosecondsSinceEpoch &+ offset),
                    attributes: [
                        PipelineSpanAttribute.retryAttempt: .int64(Int64(retry.attempt)),
                        PipelineSpanAttribute.retryDelay: .double(retry.delay),
                    ]))
        }
    }
}
