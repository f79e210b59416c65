extension Pipeline {
    /// Runs `operation` through the pipeline's policies, like ``execute(key:_:)``,
    /// and fills `report` with what the call did: its attempts and retries,
    /// its variant, its outcome and what the shadow would have seen.
    ///
    /// For integrations that trace or log each call (`SentinelTracing`); the
    /// plain ``execute(key:_:)`` fills no report and pays nothing for one.
    ///
    /// - Parameters:
    ///   - key: keeps a caller on one traffic-split variant (for example a user id).
    ///   - report: filled while the call runs; complete once this returns or throws.
    ///   - operation: the call to protect; receives the variant and attempt number.
    /// - Throws: the operation's error, or ``ResilienceError`` when a policy refused or ended the call.
    @inlinable
    public func execute<T: Sendable>(
        key: String? = nil,
        report: CallReport,
        _ operation: @Sendable (CallContext) async throws -> T
    ) async throws -> T {
        try await executeCall(key: key, report: report, operation)
    }
}
