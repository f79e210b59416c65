/// The names of the attributes and events on a pipeline call's span (see ``TracedPipeline``).
public enum PipelineSpanAttribute {
    /// The pipeline's name (string).
    public static let pipeline = "resilience.pipeline"
    /// The traffic-split variant that served the call (string; absent without a split
    /// or when a policy before the split refused the call).
    public static let variant = "resilience.variant"
    /// The attempt the call ended on (int: 1 without retries).
    public static let attempts = "resilience.attempts"
    /// The circuit breaker's state when the call ended: `closed`, `open`, `half_open`
    /// (string; absent without a breaker).
    public static let breakerState = "resilience.breaker.state"
    /// How the call ended, as the statistics count it (string, see ``Resilience/Outcome/spanValue``).
    public static let outcome = "resilience.outcome"
    /// What the shadow configuration would have seen (string; only when a knob had a shadow value).
    public static let shadowOutcome = "resilience.shadow.outcome"
    /// Whether the shadow would have ended the call differently (bool; only when a knob had a shadow value).
    public static let shadowDisagreed = "resilience.shadow.disagreed"
    /// The name of the event each retry adds.
    public static let retryEvent = "retry"
    /// On a `retry` event: the attempt about to be made (int, 2 for the first retry).
    public static let retryAttempt = "resilience.retry.attempt"
    /// On a `retry` event: the backoff before it (double, seconds).
    public static let retryDelay = "resilience.retry.delay_s"
}
