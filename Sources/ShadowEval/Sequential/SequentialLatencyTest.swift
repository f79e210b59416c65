import Resilience

/// A sequential test of a latency tail: is the candidate's tail heavier than
/// the reference's? Its false-alarm rate stays at most `α` however often it looks.
///
/// Each look passes the **cumulative** latency histograms since the mark, in
/// the ``Resilience/LatencyBuckets`` layout (calls per bucket), on both sides.
///
/// How it works:
/// 1. **A fixed threshold.** At the first look with ``thresholdCalls``
///    reference calls, the reference's ``quantile`` (its bucket `b`) sets the
///    reference threshold `T = upper edge of b`, and the candidate threshold
///    is the first bucket edge at or above `scale × T`. Both stay fixed for the
///    rest of the test: a threshold that moved with the data would break the
///    martingales below.
/// 2. **Shares above it.** From then on, a ``SequentialProportionTest`` judges
///    the candidate's calls at or above its threshold against the reference's
///    calls at or above `T`, both **after** that look: the reference calls
///    that chose `T` are left out, and so are the candidate's from the same
///    time (kept, they would be one lopsided first batch, on which the
///    two-sample evidence can bet little and, for a pass, could lose much).
///
/// What the verdicts mean, with `s_c` the candidate's share at or above
/// `scale × T` and `s_r` the reference's share at or above `T`:
/// - violation: at `1 − α`, `s_c > limit_violation(s_r)`. With `scale` 1.2
///   and no margin: the candidate's `(1 − s_r)`-quantile is at least 1.2 ×
///   the reference's (`s_r` is near `1 − quantile`; see below).
/// - pass: at `1 − α`, `s_c < limit_pass(s_r)`, with ``SequentialProportionTest/minimumCalls``
///   on both sides after the threshold.
///
/// **The quantile's own uncertainty.** `T` is an estimate of the reference's
/// quantile, not the quantile; the test never uses it as one. `T` is a
/// function of the reference calls up to the fixing look only, so, given
/// `T`, the later reference calls and all candidate calls are still
/// independent draws, and "at or above `T`" (or `scale × T`) is a Bernoulli
/// outcome with a fixed, unknown rate on each side. The test is a
/// two-sample test of those two rates, valid conditionally on `T` and so
/// unconditionally: `P(false violation) ≤ α` whatever `T` turned out to be. The
/// uncertainty of `T` changes *which* tail point is compared (the realized
/// `s_r` is near, not at, `1 − quantile`; ``Threshold/effectiveScale`` is
/// `scale` rounded up to a bucket edge, at most 3.8 % more), never the
/// guarantee. Had the reference calls that chose `T` been kept, the
/// reference's share would be biased low (`T` is where that sample's share
/// falls to `1 − quantile`), which is why they are left out.
///
/// With the reference's quantile in the overflow bucket (above 68.7 s) no
/// call can lie above the threshold and the test never decides.
public struct SequentialLatencyTest: Sendable, Hashable {
    /// The fixed thresholds, once the reference has had ``thresholdCalls`` calls.
    public struct Threshold: Sendable, Hashable {
        /// The reference's quantile bucket: reference calls in higher buckets are in its tail.
        public let referenceBucket: Int
        /// The first bucket of the candidate's tail.
        public let candidateBucket: Int
        /// The reference threshold `T` in nanoseconds (the upper edge of ``referenceBucket``).
        public let referenceNanoseconds: Double
        /// The candidate threshold in nanoseconds (the lower edge of ``candidateBucket``).
        public let candidateNanoseconds: Double
        /// Reference calls at the fixing look (they chose `T`, so they are left out).
        public let referenceCallsBefore: Int
        /// Reference calls at or above `T` at the fixing look.
        public let referenceTailBefore: Int
        /// Candidate calls at the fixing look (left out with the reference's).
        public let candidateCallsBefore: Int
        /// Candidate calls in its tail at the fixing look.
        public let candidateTailBefore: Int

        /// `candidateNanoseconds / referenceNanoseconds`: `scale` rounded up to a bucket edge.
        public var effectiveScale: Double { candidateNanoseconds / referenceNanoseconds }
    }

    /// The reference quantile that sets the threshold (0.99: p99).
    public let quantile: Double
    /// The candidate's threshold as a multiple of the reference's (at least 1).
    public let scale: Double
    /// Reference calls needed before the threshold is fixed.
    public let thresholdCalls: Int
    /// The thresholds, once fixed.
    public private(set) var threshold: Threshold?
    /// The two-sample test on the shares at or above the thresholds.
    public private(set) var shares: SequentialProportionTest

    /// The default pass margin on the shares: none (with ``scale`` 1.2, a pass
    /// says the candidate's quantile is within 1.2 × the reference's).
    public static let defaultPassMargin = MetricTolerance(absolute: 0, relative: 0)

    /// The default ``thresholdCalls`` for `quantile`: enough for 10 reference
    /// calls above it (1,000 for p99), and at least 100.
    public static func defaultThresholdCalls(quantile: Double) -> Int {
        Swift.max(100, Int((10 / Swift.max(1e-6, 1 - quantile)).rounded(.up)))
    }

    /// Makes a test. `quantile` is clamped to `[0.5, 0.9999]` and `scale` to at least 1.
    ///
    /// ```swift
    /// // Violation: p99 more than 20 % above the reference's; pass: within 20 %.
    /// var p99 = SequentialLatencyTest(quantile: 0.99, scale: 1.2, alpha: 0.001)
    /// // Violation: more than 1.5 × the reference's share above the reference's p99.
    /// var tail = SequentialLatencyTest(
    ///     quantile: 0.99, scale: 1, violationMargin: MetricTolerance(absolute: 0, relative: 0.5),
    ///     passMargin: MetricTolerance(absolute: 0, relative: 1))
    /// ```
    public init(
        quantile: Double = 0.99,
        scale: Double = 1.2,
        alpha: Double = 0.05,
        violationMargin: MetricTolerance = MetricTolerance(absolute: 0, relative: 0),
        passMargin: MetricTolerance = SequentialLatencyTest.defaultPassMargin,
        minimumCalls: Int = SequentialProportionTest.defaultMinimumCalls,
        thresholdCalls: Int? = nil,
        tau: Double = RateConfidenceSequence.defaultTau
    ) {
        let quantile = quantile.isFinite ? Swift.min(0.9999, Swift.max(0.5, quantile)) : 0.99
        self.quantile = quantile
        self.scale = scale.isFinite ? Swift.max(1, scale) : 1
        self.thresholdCalls = Swift.max(1, thresholdCalls ?? Self.defaultThresholdCalls(quantile: quantile))
        shares = SequentialProportionTest(
            alpha: alpha, violationMargin: violationMargin, passMargin: passMargin, minimumCalls: minimumCalls, tau: tau)
    }

    /// The verdict at the latest look (`continue` until the threshold is fixed).
    public var verdict: SequentialVerdict { shares.verdict }

    /// The evidence of the shares' test (counts are calls and tail calls).
    public var evidence: SequentialEvidence { shares.evidence }

    /// The shares' evidence entries with the thresholds (`threshold_*`, seconds).
    public var entries: Evidence {
        var entries = shares.evidence.entries
        entries["quantile"] = .number(quantile)
        entries["scale"] = .number(scale)
        entries["threshold_calls"] = .number(Double(thresholdCalls))
        if let threshold {
            entries["threshold_reference"] = .number(threshold.referenceNanoseconds / 1e9)
            entries["threshold_candidate"] = .number(threshold.candidateNanoseconds / 1e9)
            entries["threshold_effective_scale"] = .number(threshold.effectiveScale)
        }
        return entries
    }

    /// Takes a look at the cumulative histograms since the mark (calls per bucket).
    @discardableResult
    public mutating func look(candidate: [UInt64], reference: [UInt64]) -> SequentialVerdict {
        if threshold == nil {
            fixThreshold(reference.map { Int(Swift.min($0, 1 << 50)) }) { Self.split(candidate, from: $0) }
            return verdict
        }
        guard let threshold else { return verdict }
        return look(
            candidate: Self.split(candidate, from: threshold.candidateBucket),
            reference: Self.split(reference, from: threshold.referenceBucket + 1))
    }

    /// Takes a look at the cumulative histograms since the mark (calls per
    /// bucket; counts are rounded, and negative or non-finite ones count as 0).
    @discardableResult
    public mutating func look(candidate: [Double], reference: [Double]) -> SequentialVerdict {
        if threshold == nil {
            fixThreshold(reference.map(Self.count)) { Self.split(candidate, from: $0) }
            return verdict
        }
        guard let threshold else { return verdict }
        return look(
            candidate: Self.split(candidate, from: threshold.candidateBucket),
            reference: Self.split(reference, from: threshold.referenceBucket + 1))
    }

    /// Fixes the thresholds once the reference has enough calls; `candidate`
    /// gives the candidate's calls and tail calls from a candidate bucket.
    private mutating func fixThreshold(_ reference: [Int], candidate: (Int) -> (calls: Int, tail: Int)) {
        let calls = reference.reduce(0, +)
        guard calls >= thresholdCalls else { return }
        let fixed = Self.threshold(reference: reference, calls: calls, quantile: quantile, scale: scale)
        let before = candidate(fixed.candidateBucket)
        threshold = Threshold(
            referenceBucket: fixed.referenceBucket, candidateBucket: fixed.candidateBucket,
            referenceNanoseconds: fixed.referenceNanoseconds, candidateNanoseconds: fixed.candidateNanoseconds,
            referenceCallsBefore: fixed.referenceCallsBefore, referenceTailBefore: fixed.referenceTailBefore,
            candidateCallsBefore: before.calls, candidateTailBefore: before.tail)
    }

    private mutating func look(candidate: (calls: Int, tail: Int), reference: (calls: Int, tail: Int)) -> SequentialVerdict {
        guard let threshold else { return verdict }
        return shares.look(
            candidateBad: candidate.tail - threshold.candidateTailBefore,
            candidateTotal: candidate.calls - threshold.candidateCallsBefore,
            referenceBad: reference.tail - threshold.referenceTailBefore,
            referenceTotal: reference.calls - threshold.referenceCallsBefore)
    }

    /// A histogram's calls, and its calls in buckets from `first` on: one
    /// pass over the buffer, no copies (looks come often, histograms are 458
    /// buckets long, and debug builds run the simulations of the tests).
    static func split(_ histogram: [UInt64], from first: Int) -> (calls: Int, tail: Int) {
        histogram.withUnsafeBufferPointer { buffer in
            var calls: UInt64 = 0, tail: UInt64 = 0, index = 0
            while index < buffer.count {
                let value = Swift.min(buffer[index], 1 << 50)
                calls &+= value
                if index >= first { tail &+= value }
                index += 1
            }
            return (Int(calls), Int(tail))
        }
    }

    /// As ``split(_:from:)-([UInt64],_)`` for counts kept as doubles.
    static func split(_ histogram: [Double], from first: Int) -> (calls: Int, tail: Int) {
        histogram.withUnsafeBufferPointer { buffer in
            var calls = 0, tail = 0, index = 0
            while index < buffer.count {
                let value = count(buffer[index])
                calls += value
                if index >= first { tail += value }
                index += 1
            }
            return (calls, tail)
        }
    }

    /// A count kept as a double: rounded; negative or non-finite counts are 0.
    static func count(_ value: Double) -> Int {
        value.isFinite && value > 0 ? Int(Swift.min(value.rounded(), 0x1p50)) : 0
    }

    /// The thresholds from the reference's histogram at the fixing look (no candidate calls left out).
    static func threshold(reference: [Int], calls: Int, quantile: Double, scale: Double) -> Threshold {
        let target = quantile * Double(calls)
        var bucket = reference.count - 1, cumulative = 0
        for (index, count) in reference.enumerated() {
            cumulative += count
            if Double(cumulative) >= target {
                bucket = index
                break
            }
        }
        bucket = Swift.min(bucket, LatencyBuckets.count - 1)
        let referenceNanoseconds = LatencyBuckets.bounds(of: bucket).upper
        var candidateBucket = bucket + 1
        // The first edge at or above scale × T (a relative 1e-12 of slack for rounding).
        while candidateBucket < LatencyBuckets.count - 1,
            LatencyBuckets.bounds(of: candidateBucket).lower < scale * referenceNanoseconds * (1 - 1e-12)
        {
            candidateBucket += 1
        }
        let candidateNanoseconds = LatencyBuckets.bounds(of: candidateBucket).lower
        return Threshold(
            referenceBucket: bucket, candidateBucket: candidateBucket,
            referenceNanoseconds: referenceNanoseconds.isFinite ? referenceNanoseconds : candidateNanoseconds,
            candidateNanoseconds: candidateNanoseconds, referenceCallsBefore: calls,
            referenceTailBefore: reference[(bucket + 1)...].reduce(0, +), candidateCallsBefore: 0, candidateTailBefore: 0)
    }
}
