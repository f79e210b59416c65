#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time-uniform bounds on one side's rate of bad outcomes: bounds that hold
/// at every look at once, however many looks there are.
///
/// For a null rate `p₀`, the evidence against "the rate is at most `p₀`"
/// after `x` bad outcomes in `n` calls is a mixture of Bernoulli likelihood
/// ratios, one for each alternative rate `p'` with log-odds `logit p₀ + λ`:
///
///     M(p₀) = Σⱼ wⱼ · exp(λⱼ x − n · ln(1 + p₀ (e^λⱼ − 1)))
///
/// Each term is the exact likelihood ratio of `p'` against `p₀` (nothing is
/// approximated by a normal), so `M` is a nonnegative supermartingale with
/// `M₀ = 1` whenever every call is bad with probability at most `p₀`, and
/// Ville's inequality gives `P(M ≥ 1/α at any call) ≤ α`. Looks are a subset
/// of calls, so the bound holds for any number of looks taken at any times.
/// The evidence against "at least `p₀`" is the same with `−λⱼ`.
///
/// The tilts `λⱼ > 0` lie on a geometric grid (0.01 to about 10, ratio 1.35,
/// 24 points) and the weights `wⱼ` (summing to 1) discretize a half-normal
/// prior on the log-odds ratio with scale ``tau``: `wⱼ ∝ λⱼ · exp(−λⱼ²/2τ²)`
/// (the density times the grid spacing). `τ²` is the mixture variance of the
/// mixture SPRT: the evidence grows fastest for log-odds ratios near `τ`, so a
/// larger `τ` detects large shifts sooner and small ones later.
///
/// ``lowerBound(bad:total:alpha:)`` is the smallest `p₀` not rejected by the
/// evidence against "at most `p₀`" at `1/α`; ``upperBound(bad:total:alpha:)``
/// the largest not rejected by the evidence against "at least `p₀`". Each is a
/// one-sided `1 − α` confidence sequence: `P(lower > p at some look) ≤ α`.
/// With no calls the bounds are `[0, 1]`; with no bad outcomes the lower
/// bound is 0 and the upper bound falls like `ln(1/α)/n`.
public struct RateConfidenceSequence: Sendable, Hashable {
    /// Which way the alternatives lie from the null rate.
    public enum Direction: Sendable, Hashable {
        /// Alternatives above the null: evidence that the rate exceeds it.
        case above
        /// Alternatives below the null: evidence that the rate is under it.
        case below
    }

    /// The scale of the half-normal prior on the log-odds ratio (`τ²` is the mixture variance).
    public let tau: Double

    /// The default `τ`: 1. Of those measured, the fastest to catch 0.5 % →
    /// 2.5 % (a log-odds ratio of 1.63), and within 2 % of the fastest to pass
    /// a healthy 0.5 % against the default 1.55 % limit (1.14); see
    /// `docs/decisions.md`, "The sequential judge".
    public static let defaultTau = 1.0

    /// The tilts `λⱼ`: log-odds ratios from 0.01 to about 10, ratio 1.35.
    static let tilts: [Double] = (0..<24).map { 0.01 * pow(1.35, Double($0)) }
    /// `e^λⱼ − 1`, for alternatives above the null.
    static let upShifts: [Double] = tilts.map { expm1($0) }
    /// `e^−λⱼ − 1`, for alternatives below the null.
    static let downShifts: [Double] = tilts.map { expm1(-$0) }

    /// `ln wⱼ`.
    let logWeights: [Double]

    /// Makes the bounds for a prior of scale `tau`, clamped to `[0.05, 10]`.
    public init(tau: Double = RateConfidenceSequence.defaultTau) {
        let tau = tau.isFinite ? Swift.min(10, Swift.max(0.05, tau)) : Self.defaultTau
        self.tau = tau
        let unnormalized = Self.tilts.map { log($0) - $0 * $0 / (2 * tau * tau) }
        let total = Self.logSumExp(unnormalized)
        logWeights = unnormalized.map { $0 - total }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.tau == rhs.tau }
    public func hash(into hasher: inout Hasher) { hasher.combine(tau) }

    // MARK: - Evidence

    /// The natural log of the evidence `M(p₀)` against the null rate `null`
    /// after `bad` bad outcomes in `total` calls: against "at most `null`"
    /// for `.above`, against "at least `null`" for `.below`. 0 with no calls.
    public func logEvidence(bad: Int, total: Int, null: Double, direction: Direction) -> Double {
        logEvidenceAndSlope(bad: Double(bad), total: Double(total), null: null, direction: direction).value
    }

    /// The log of the evidence and its derivative in the null rate: decreasing
    /// in the null for `.above`, increasing for `.below` (strictly, with calls).
    func logEvidenceAndSlope(bad: Double, total: Double, null: Double, direction: Direction) -> (value: Double, slope: Double) {
        let p0 = Swift.min(1, Swift.max(0, null))
        let shifts = direction == .above ? Self.upShifts : Self.downShifts
        let sign = direction == .above ? 1.0 : -1.0
        // One pass of a running log-sum-exp; `slope` is the weighted mean of the terms' slopes.
        var top = -Double.infinity, sum = 0.0, slope = 0.0
        for j in 0..<logWeights.count {
            let shift = shifts[j]
            let exponent = logWeights[j] + sign * Self.tilts[j] * bad - total * log1p(p0 * shift)
            let termSlope = -total * shift / (1 + p0 * shift)
            if exponent > top {
                let scale = exp(top - exponent)
                sum = sum * scale + 1
                slope = slope * scale + termSlope
                top = exponent
            } else {
                let weight = exp(exponent - top)
                sum += weight
                slope += weight * termSlope
            }
        }
        return (top + log(sum), slope / sum)
    }

    // MARK: - Bounds

    /// The lower end of the `1 − alpha` one-sided confidence sequence for the
    /// rate after `bad` of `total` calls (0 with no calls or no bad outcomes).
    public func lowerBound(bad: Int, total: Int, alpha: Double) -> Double {
        guard total > 0, bad > 0 else { return 0 }
        let threshold = log(1 / alpha)
        let x = Double(Swift.min(bad, total)), n = Double(total)
        let estimate = x / n
        let evidence = { (p: Double) -> (value: Double, slope: Double) in
            let (value, slope) = self.logEvidenceAndSlope(bad: x, total: n, null: p, direction: .above)
            // Increasing in p once negated: crosses 0 at the bound.
            return (threshold - value, -slope)
        }
        if evidence(0).value > 0 { return 0 }
        let guess = estimate - (2 * threshold * estimate * (1 - estimate) / n).squareRoot()
        // The conservative end: rejected, so at or below the bound.
        return Self.crossing(low: 0, high: estimate, guess: guess, evidence).low
    }

    /// The upper end of the `1 − alpha` one-sided confidence sequence for the
    /// rate after `bad` of `total` calls (1 with no calls).
    public func upperBound(bad: Int, total: Int, alpha: Double) -> Double {
        guard total > 0, bad < total else { return 1 }
        let threshold = log(1 / alpha)
        let x = Double(Swift.max(0, bad)), n = Double(total)
        let estimate = x / n
        let evidence = { (p: Double) -> (value: Double, slope: Double) in
            let (value, slope) = self.logEvidenceAndSlope(bad: x, total: n, null: p, direction: .below)
            return (value - threshold, slope)
        }
        if evidence(1).value < 0 { return 1 }
        let spread = (2 * threshold * Swift.max(estimate * (1 - estimate), threshold / n) / n).squareRoot()
        return Self.crossing(low: estimate, high: 1, guess: estimate + spread, evidence).high
    }

    /// Both ends: ``lowerBound(bad:total:alpha:)`` and ``upperBound(bad:total:alpha:)``,
    /// each one-sided at `1 − alpha` (together, a `1 − 2 alpha` confidence sequence).
    public func bounds(bad: Int, total: Int, alpha: Double) -> ClosedRange<Double> {
        lowerBound(bad: bad, total: total, alpha: alpha)...upperBound(bad: bad, total: total, alpha: alpha)
    }

    // MARK: - Root finding

    /// Where the increasing `f` crosses 0 in `[low, high]`, as a bracket
    /// (`f(low) < 0 ≤ f(high)`, width at most about 1e-9 relative): Newton
    /// steps from `guess` while they stay inside the bracket, bisection
    /// otherwise. A Newton step goes half a tolerance past the root it
    /// predicts, so the next evaluation lands on the other side and closes
    /// the bracket.
    static func crossing(
        low: Double, high: Double, guess: Double, _ f: (Double) -> (value: Double, slope: Double)
    ) -> (low: Double, high: Double) {
        var low = low, high = high
        func tolerance(_ x: Double) -> Double { 1e-13 + 1e-9 * abs(x) }
        var x = guess > low && guess < high ? guess : (low + high) / 2
        for _ in 0..<200 {
            let (value, slope) = f(x)
            if value == 0 { return (x, x) }
            if value < 0 { low = x } else { high = x }
            if high - low <= tolerance(x) { break }
            var next = (low + high) / 2
            if slope > 0, slope.isFinite, value.isFinite {
                let newton = x - value / slope
                let nudged = newton + (newton > x ? 0.5 : -0.5) * tolerance(newton)
                if nudged > low && nudged < high { next = nudged }
            }
            if next == x { break }
            x = next
        }
        return (low, high)
    }

    static func logSumExp(_ values: [Double]) -> Double {
        guard let top = values.max(), top.isFinite else { return values.max() ?? -.infinity }
        return top + log(values.reduce(0) { $0 + exp($1 - top) })
    }
}
