#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-sided two-proportion z-test: is the candidate's proportion of bad
/// outcomes larger than the reference's?
///
/// Uses the pooled standard error. With no bad outcomes on either side (or
/// no samples) `z` is 0 and the p-value 0.5: never significant.
public struct ProportionTest: Sendable, Hashable {
    /// The z statistic (positive when the candidate is worse).
    public let z: Double
    /// The one-sided p-value `P(Z >= z)`.
    public let pValue: Double

    /// Runs the test on `candidateBad` of `candidateTotal` against `referenceBad` of `referenceTotal`.
    public init(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int) {
        guard candidateTotal > 0, referenceTotal > 0 else {
            z = 0
            pValue = 0.5
            return
        }
        let n1 = Double(candidateTotal), n2 = Double(referenceTotal)
        let p1 = Double(candidateBad) / n1, p2 = Double(referenceBad) / n2
        let pooled = Double(candidateBad + referenceBad) / (n1 + n2)
        let variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
        let statistic = variance > 0 ? (p1 - p2) / variance.squareRoot() : 0
        z = statistic
        pValue = Self.upperTail(statistic)
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
