/// How much worse than the reference a candidate may be on one metric.
///
/// The candidate is within tolerance while
/// `candidate <= reference * (1 + relative) + absolute`. Both parts are
/// non-negative; with both at 0 any observed difference exceeds the tolerance
/// (and, for rates, only the statistical test then decides).
public struct MetricTolerance: Sendable, Hashable {
    /// Allowed excess in the metric's own unit (a rate, or seconds for latencies).
    public var absolute: Double
    /// Allowed excess as a fraction of the reference value (0.1 = 10 %).
    public var relative: Double

    /// Makes a tolerance; negative parts are clamped to 0.
    public init(absolute: Double, relative: Double) {
        self.absolute = Swift.max(0, absolute)
        self.relative = Swift.max(0, relative)
    }

    /// The largest candidate value accepted against `reference`.
    public func limit(reference: Double) -> Double {
        reference * (1 + relative) + absolute
    }

    /// Whether `candidate` is worse than `reference` by more than this tolerance.
    public func isExceeded(candidate: Double, reference: Double) -> Bool {
        candidate > limit(reference: reference)
    }
}
