/// What a trial compares between the candidate (shadow, or live after
/// promotion) and the reference (live, or the pre-promotion baseline).
///
/// Rates (error, rejection, timeout) are violated only when the candidate's
/// rate exceeds its tolerance **and** a one-sided two-proportion test
/// (``ProportionTest``: the z-test, or Fisher's exact test on small counts)
/// finds the candidate worse than the reference at ``confidence``: the
/// tolerance says how much worse matters, the test says whether the
/// difference is more than noise. Without histograms, latency percentiles
/// are compared against their tolerances only.
///
/// With the windows' latency histograms at hand (the Sentinel passes them),
/// latency is judged at ``confidence`` too: a percentile is violated only
/// when it exceeds its tolerance **and** a ``TailTest`` finds more candidate
/// calls above the reference's percentile than the reference has; and the
/// whole distribution is compared by a Mann-Whitney ``RankTest``: violated
/// when a candidate call is slower than a reference call with probability
/// above `0.5 + latencyShift` and the test is significant.
///
/// Defaults:
/// - `errorRate`, `rejectionRate`, `timeoutRate`: absolute 0.01, relative 0.10
/// - `p99`: absolute 0.005 s, relative 0.10; `p50` and `p90`: not judged (`nil`)
/// - `latencyShift`: 0.05 (judged only with histograms)
/// - `confidence`: 0.95
///
/// A metric whose tolerance is `nil` is not judged.
public struct TrialCriteria: Sendable, Hashable {
    /// Tolerance on `failures / calls`.
    public var errorRate: MetricTolerance?
    /// Tolerance on `rejections / calls`.
    public var rejectionRate: MetricTolerance?
    /// Tolerance on `timeouts / calls`.
    public var timeoutRate: MetricTolerance?
    /// Tolerance on the median latency (seconds).
    public var p50: MetricTolerance?
    /// Tolerance on the 90th percentile latency (seconds).
    public var p90: MetricTolerance?
    /// Tolerance on the 99th percentile latency (seconds).
    public var p99: MetricTolerance?
    /// Margin over 0.5 of the rank test's probability that a candidate call is slower.
    public var latencyShift: Double?
    /// Confidence of the one-sided tests, in (0.5, 1).
    public var confidence: Double

    /// The default rate tolerance: absolute 0.01, relative 0.10.
    public static let defaultRateTolerance = MetricTolerance(absolute: 0.01, relative: 0.10)
    /// The default p99 tolerance: absolute 5 ms, relative 0.10.
    public static let defaultP99Tolerance = MetricTolerance(absolute: 0.005, relative: 0.10)

    /// Makes criteria; every argument defaults as documented on the type.
    public init(
        errorRate: MetricTolerance? = TrialCriteria.defaultRateTolerance,
        rejectionRate: MetricTolerance? = TrialCriteria.defaultRateTolerance,
        timeoutRate: MetricTolerance? = TrialCriteria.defaultRateTolerance,
        p50: MetricTolerance? = nil,
        p90: MetricTolerance? = nil,
        p99: MetricTolerance? = TrialCriteria.defaultP99Tolerance,
        latencyShift: Double? = 0.05,
        confidence: Double = 0.95
    ) {
        self.latencyShift = latencyShift
        self.errorRate = errorRate
        self.rejectionRate = rejectionRate
        self.timeoutRate = timeoutRate
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.confidence = confidence
    }
}
