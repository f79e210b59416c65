#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-sided two-proportion test: is the candidate's proportion of bad
/// outcomes larger than the reference's?
///
/// `z` uses the pooled standard error. The p-value comes from the normal
/// approximation only when every cell of the 2×2 table (bad and good, on
/// each side) expects at least 10 outcomes; below that (a few errors in a
/// few hundred calls, the usual case for error rates and latency tails) the
/// normal approximation calls noise significant, and the p-value is Fisher's
/// exact test instead (one-sided, from the hypergeometric distribution), so
/// the stated confidence holds. With no bad outcomes on either side (or no
/// samples) `z` is 0 and the test is never significant.
public struct ProportionTest: Sendable, Hashable {
    /// The z statistic (positive when the candidate is worse).
    public let z: Double
    /// The one-sided p-value: `P(Z >= z)`, or Fisher's exact when ``exact``.
    public let pValue: Double
    /// Whether the p-value is Fisher's exact test (some cell expected fewer than 10).
    public let exact: Bool

    /// The smallest expected count per cell for which the normal approximation is used.
    public static let minimumExpectedCount = 10.0

    /// Runs the test on `candidateBad` of `candidateTotal` against `referenceBad` of `referenceTotal`.
    public init(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int) {
        guard candidateTotal > 0, referenceTotal > 0 else {
            z = 0
            pValue = 0.5
            exact = false
            return
        }
        let n1 = Double(candidateTotal), n2 = Double(referenceTotal)
        let p1 = Double(candidateBad) / n1, p2 = Double(referenceBad) / n2
        let bad = Double(candidateBad + referenceBad)
        let pooled = bad / (n1 + n2)
        let variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
        let statistic = variance > 0 ? (p1 - p2) / variance.squareRoot() : 0
        z = statistic
        let share = n1 / (n1 + n2), good = n1 + n2 - bad
        let smallestCell = Swift.min(bad * share, bad * (1 - share), good * share, good * (1 - share))
        if smallestCell >= Self.minimumExpectedCount || bad == 0 || good == 0 {
            exact = false
            pValue = bad == 0 || good == 0 ? 0.5 : Self.upperTail(statistic)
        } else {
            exact = true
            pValue = Self.fisherUpperTail(
                candidateBad: candidateBad, candidateTotal: candidateTotal, bad: candidateBad + referenceBad,
                total: candidateTotal + referenceTotal)
        }
    }

    /// Fisher's one-sided exact p-value: the probability, with `bad` bad
    /// outcomes among `total` dealt at random, that the candidate's
    /// `candidateTotal` get `candidateBad` or more of them (hypergeometric).
    /// Sums away from the mode, where terms shrink geometrically.
    static func fisherUpperTail(candidateBad k: Int, candidateTotal n: Int, bad: Int, total: Int) -> Double {
        let low = Swift.max(0, n + bad - total), high = Swift.min(bad, n)
        if k <= low { return 1 }
        if k > high { return 0 }
        // lgamma_r: plain lgamma writes the global `signgam`, a data race between threads.
        func logFactorial(_ a: Int) -> Double {
            var sign: Int32 = 0
            return lgamma_r(Double(a) + 1, &sign)
        }
        func logChoose(_ a: Int, _ b: Int) -> Double {
            logFactorial(a) - logFactorial(b) - logFactorial(a - b)
        }
        func probability(_ x: Int) -> Double {
            exp(logChoose(bad, x) + logChoose(total - bad, n - x) - logChoose(total, n))
        }
        // P(x + 1) / P(x)
        func ratio(_ x: Int) -> Double {
            Double(bad - x) * Double(n - x) / (Double(x + 1) * Double(total - bad - n + x + 1))
        }
        let mode = Int((Double(n + 1) * Double(bad + 1) / Double(total + 2)).rounded(.down))
        if k > mode {
            // Upper tail directly: k, k+1, ... while the terms matter.
            var term = probability(k), sum = 0.0, x = k
            while term > 0 {
                sum += term
                if x == high || term < sum * 1e-16 { break }
                term *= ratio(x)
                x += 1
            }
            return Swift.min(1, sum)
        }
        // 1 - lower tail: k-1, k-2, ... while the terms matter.
        var term = probability(k - 1), sum = 0.0, x = k - 1
        while term > 0 {
            sum += term
            if x == low || term < sum * 1e-16 { break }
            x -= 1
            term /= ratio(x)
        }
        return Swift.max(0, 1 - sum)
    }

    /// Whether the candidate is worse than the reference at `confidence` (for example 0.95).
    public func isSignificant(confidence: Double) -> Bool {
        pValue < 1 - confidence
    }

    /// `P(Z >= z)` for a standard normal `Z`.
    public static func upperTail(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// The `z` with `P(Z >= z) = 1 - confidence` (1.6449 for 0.95), by bisection.
    public static func criticalValue(confidence: Double) -> Double {
        var low = -10.0, high = 10.0
        let target = 1 - confidence
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if upperTail(middle) > target { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}
