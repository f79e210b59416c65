/// Runs a failed call again, after a growing and randomized delay.
///
/// Knobs (under `<pipeline>.retry.`): `max_attempts` (1...100, attempts in all),
/// `base_delay` and `max_delay` (seconds, 0...3600), `multiplier` (1...10),
/// `budget_ratio` (0...1, retries allowed per call on average; only with a budget).
///
/// Sleeps on the pipeline's clock; cancellation during a backoff stops at once
/// with `CancellationError`. Errors for which `shouldRetry` returns false end the
/// call at once; by default everything is retried except cancellation,
/// rejections by a breaker, bulkhead or rate limiter, and errors that say they
/// are not worth another attempt (``RetryClassifying``).
///
/// `Retry-After`: when a retried error carries a hint (``RetryAfterHinting``), the
/// next attempt waits `max(backoff delay, hint)`; a hint beyond `max_delay` ends
/// the call at once with that error.
///
/// Shadow: a smaller shadow `max_attempts` is judged exactly; a larger one is
/// judged when live succeeded, and is unknown when live ran out of attempts.
public struct Retry: PipelinePolicy {
    /// Initial settings.
    public var settings: RetrySettings
    /// Initial budget ratio, or `nil` for no budget.
    public var budgetRatio: Double?
    /// Budget tokens available at start and after quiet periods.
    public var budgetReserve: Double
    /// Which errors are worth another attempt.
    public var shouldRetry: @Sendable (any Error) -> Bool

    /// Makes a retry policy.
    public init(
        maxAttempts: Int = 3,
        backoff: Backoff = .exponential,
        baseDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(10),
        multiplier: Double = 2,
        jitter: Jitter = .full,
        budgetRatio: Double? = 0.2,
        budgetReserve: Double = 10,
        shouldRetry: @escaping @Sendable (any Error) -> Bool = Retry.defaultPredicate
    ) {
        settings = RetrySettings(
            maxAttempts: maxAttempts, baseDelay: baseDelay.secondsDouble, maxDelay: maxDelay.secondsDouble,
            multiplier: multiplier, backoff: backoff, jitter: jitter)
        self.budgetRatio = budgetRatio
        self.budgetReserve = budgetReserve
        self.shouldRetry = shouldRetry
    }

    /// Retries everything except cancellation, policy rejections, and errors whose
    /// ``RetryClassifying/isRetryable`` is false.
    public static let defaultPredicate: @Sendable (any Error) -> Bool = { error in
        if error is CancellationError { return false }
        if let error = error as? ResilienceError { return !error.isRejection }
        if let error = error as? any RetryClassifying { return error.isRetryable }
        return true
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.retry(self)) }

    static func knobs(_ pipeline: String, _ spec: Retry) -> [KnobDescriptor] {
        let p = "\(pipeline).retry"
        var knobs = [
            KnobDescriptor(
                name: "\(p).max_attempts", kind: .integer, minimum: 1, maximum: 100,
                defaultValue: Double(spec.settings.maxAttempts), description: "Attempts in all, the first included",
                refusesZero: true),
            KnobDescriptor(
                name: "\(p).base_delay", kind: .duration, minimum: 0, maximum: 3600,
                defaultValue: spec.settings.baseDelay, description: "First backoff delay"),
            KnobDescriptor(
                name: "\(p).max_delay", kind: .duration, minimum: 0, maximum: 3600,
                defaultValue: spec.settings.maxDelay, description: "Largest backoff delay"),
            KnobDescriptor(
                name: "\(p).multiplier", kind: .number, minimum: 1, maximum: 10,
                defaultValue: spec.settings.multiplier, description: "Growth of exponential backoff"),
        ]
        if let ratio = spec.budgetRatio {
            knobs.append(
                KnobDescriptor(
                    name: "\(p).budget_ratio", kind: .ratio, minimum: 0, maximum: 1,
                    defaultValue: ratio, description: "Retries allowed per call, on average"))
        }
        return knobs
    }
}
