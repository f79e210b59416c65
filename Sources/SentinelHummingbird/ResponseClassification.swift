import HTTPTypes

/// Which answers of a handler count as failures in the pipeline's statistics
/// and its circuit breaker.
///
/// By default a 5xx status is a failure and everything else a success: a 4xx
/// is the client's mistake and says nothing about the service's health. The
/// classification applies to returned responses and to thrown errors that
/// carry a status (Hummingbird's `HTTPResponseError`, such as `HTTPError`);
/// any other thrown error is a failure.
public struct ResponseClassification: Sendable {
    let rule: @Sendable (HTTPResponse.Status) -> Bool

    /// Classifies with `isFailure`, which returns `true` for a status that is a failure.
    public init(failureWhen isFailure: @escaping @Sendable (HTTPResponse.Status) -> Bool) {
        rule = isFailure
    }

    /// 5xx statuses are failures (the default).
    public static let serverErrors = ResponseClassification { $0.kind == .serverError }

    /// 4xx and 5xx statuses are failures.
    public static let clientAndServerErrors = ResponseClassification {
        $0.kind == .serverError || $0.kind == .clientError
    }

    /// Whether `status` counts as a failure.
    public func isFailure(_ status: HTTPResponse.Status) -> Bool { rule(status) }
}
