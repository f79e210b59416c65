#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Mann-Whitney U test on two latency histograms with the same buckets
/// (``Resilience/OutcomeWindows/latencyHistogram(_:now:)``): are the
/// candidate's latencies stochastically larger than the reference's?
///
/// Calls in one bucket are ties (mid-ranks), and the variance carries the
/// tie correction. One-sided: only "slower" is a finding.
public struct RankTest: Sendable, Hashable {
    /// Pairs (candidate, reference) where the candidate is slower; ties count half.
    public let u: Double
    /// `U / (n₁ n₂)`: the probability that a candidate call is slower than a
    /// reference call (0.5 when they are alike).
    public let superiority: Double
    /// The z statistic (positive when the candidate is slower).
    public let z: Double
    /// The one-sided p-value `P(Z >= z)`.
    public let pValue: Double

    /// Runs the test; empty histograms give `z` 0 and a p-value of 0.5.
    public init(candidate: [Double], reference: [Double]) {
        let n1 = candidate.reduce(0, +), n2 = reference.reduce(0, +)
        guard n1 > 0, n2 > 0 else {
            u = 0
            superiority = 0.5
            z = 0
            pValue = 0.5
            return
        }
        var u = 0.0, referenceBelow = 0.0, ties = 0.0
        for index in 0..<Swift.max(candidate.count, reference.count) {
            let c = index < candidate.count ? candidate[index] : 0
            let r = index < reference.count ? reference[index] : 0
            u += c * (referenceBelow + 0.5 * r)
            referenceBelow += r
            let t = c + r
            ties += t * t * t - t
        }
        let total = n1 + n2
        let variance = n1 * n2 / 12 * ((total + 1) - ties / (total * (total - 1)))
        self.u = u
        superiority = u / (n1 * n2)
        z = variance > 0 ? (u - n1 * n2 / 2) / variance.squareRoot() : 0
        pValue = ProportionTest.upperTail(z)
    }

    /// Whether the candidate is slower at `confidence`.
    public func isSignificant(confidence: Double) -> Bool { pValue < 1 - confidence }
}

/// Is the candidate's tail heavier? The share of candidate calls above the
/// reference's `quantile` (its bucket) against the reference's own share
/// above it, by a one-sided two-proportion test. Sensitive to a slow tail
/// that a rank test over the whole distribution barely sees.
public struct TailTest: Sendable, Hashable {
    public let candidateAbove: Double
    public let referenceAbove: Double
    public let test: ProportionTest

    public init(candidate: [Double], reference: [Double], quantile: Double) {
        let n1 = candidate.reduce(0, +), n2 = reference.reduce(0, +)
        var threshold = reference.count
        var cumulative = 0.0
        for (index, value) in reference.enumerated() {
            cumulative += value
            if cumulative >= quantile * n2 {
                threshold = index
                break
            }
        }
        let above = { (histogram: [Double]) in histogram.indices.filter { $0 > threshold }.reduce(0.0) { $0 + histogram[$1] } }
        candidateAbove = above(candidate)
        referenceAbove = above(reference)
        test = ProportionTest(
            candidateBad: Int(candidateAbove.rounded()), candidateTotal: Int(n1.rounded()),
            referenceBad: Int(referenceAbove.rounded()), referenceTotal: Int(n2.rounded()))
    }
}
