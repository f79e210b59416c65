import Resilience

extension Pipeline {
    /// Runs `operation` through the pipeline inside a span (see ``TracedPipeline``).
    ///
    /// ```swift
    /// let receipt = try await checkout.tracedExecute(key: user.id) { call in try await payments.charge(order) }
    /// ```
    ///
    /// Without an active tracer this is ``Resilience/Pipeline/execute(key:_:)``
    /// after one look-up of the tracer.
    @inlinable
    public func tracedExecute<T: Sendable>(
        key: String? = nil,
        configuration: TracedPipeline.Configuration = TracedPipeline.Configuration(),
        _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        try await TracedPipeline(self, configuration: configuration).execute(key: key, operation)
    }
}
