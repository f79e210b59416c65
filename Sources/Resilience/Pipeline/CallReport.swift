/// What one call did, for a caller that traces or logs its calls: filled in by
/// ``Pipeline/execute(key:report:_:)`` and read once that returns or throws.
///
/// Calls made without a report (``Pipeline/execute(key:_:)``) fill nothing
/// and pay nothing for this but a nil check: the pipeline looks for a report
/// when a call ends and when it retries (the engine for enforced timeouts also
/// at each attempt and at the split, so that a timeout keeps them).
///
/// ```swift
/// let report = CallReport()
/// let receipt = try await checkout.execute(report: report) { _ in try await payments.charge(order) }
/// print(report.attempts, report.variant ?? "-", report.outcome ?? .success)
/// ```
///
/// Use a report for one call: the pipeline writes it while the call runs and
/// stops before the call returns.
public final class CallReport: @unchecked Sendable {
    // @unchecked: written only by the one call it was given to, which ends before its caller reads it.

    /// One retry the call made.
    public struct Retry: Sendable, Hashable {
        /// The attempt about to be made (2 for the first retry).
        public var attempt: Int
        /// The backoff before it, in seconds.
        public var delay: Double
        /// When the retry was decided, in nanoseconds on the pipeline's time source.
        public var time: Int64

        /// Makes a retry record.
        public init(attempt: Int, delay: Double, time: Int64) {
            self.attempt = attempt
            self.delay = delay
            self.time = time
        }
    }

    /// When the call started, in nanoseconds on the pipeline's time source.
    public internal(set) var start: Int64 = 0
    /// When the call ended, in nanoseconds on the pipeline's time source.
    public internal(set) var end: Int64 = 0
    /// The attempt the call ended on: 1 when it did not retry (also when a
    /// policy refused it before the operation ran), else 1 plus its retries.
    public internal(set) var attempts = 0
    /// The traffic-split variant the call was routed to, if it got that far.
    public internal(set) var variant: String?
    /// How the call ended, as the windows counted it; nil until it ended.
    public internal(set) var outcome: Outcome?
    /// What the shadow configuration would have seen, as the shadow windows
    /// counted it; nil when no knob had a shadow value for this call.
    public internal(set) var shadowOutcome: Outcome?
    /// The retries, in order, each recorded when decided: a call cancelled
    /// (or timed out) during a backoff keeps the retry it was waiting for.
    public internal(set) var retries: [Retry] = []

    /// Makes an empty report.
    public init() {}

    /// Whether the shadow configuration would have ended the call differently
    /// (false without a shadow, or when what the shadow would have seen
    /// cannot be known).
    public var shadowDisagreed: Bool {
        guard let shadowOutcome, let outcome, shadowOutcome != .unknown else { return false }
        return shadowOutcome != outcome
    }
}
