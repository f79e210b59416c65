import Foundation
import ShadowEval
import Testing

/// One side's time-uniform bounds: the documented mixture, its edge cases,
/// and Ville's guarantee computed exactly (no simulation).
@Suite struct RateConfidenceSequenceTests {
    let sequence = RateConfidenceSequence()

    /// The mixture as documented, summed directly in linear space: tilts
    /// `0.01 × 1.35^j` (24 of them), weights `∝ λ exp(−λ²/2τ²)`.
    static func directEvidence(bad: Int, total: Int, null p0: Double, above: Bool, tau: Double) -> Double {
        let tilts = (0..<24).map { 0.01 * pow(1.35, Double($0)) }
        let weights = tilts.map { $0 * exp(-$0 * $0 / (2 * tau * tau)) }
        let sum = weights.reduce(0, +)
        var evidence = 0.0
        for (tilt, weight) in zip(tilts, weights) {
            let lambda = above ? tilt : -tilt
            let alternative = p0 * exp(lambda) / (1 - p0 + p0 * exp(lambda))
            let ratio = pow(alternative / p0, Double(bad)) * pow((1 - alternative) / (1 - p0), Double(total - bad))
            evidence += weight / sum * ratio
        }
        return evidence
    }

    @Test(arguments: [(0, 10, 0.1), (3, 10, 0.1), (7, 40, 0.05), (0, 200, 0.01), (12, 300, 0.02), (30, 60, 0.7)])
    func evidenceIsTheDocumentedMixture(_ bad: Int, _ total: Int, _ null: Double) {
        for (direction, above) in [(RateConfidenceSequence.Direction.above, true), (.below, false)] {
            for tau in [0.5, 1.5, 3.0] {
                let direct = Self.directEvidence(bad: bad, total: total, null: null, above: above, tau: tau)
                let logged = RateConfidenceSequence(tau: tau).logEvidence(bad: bad, total: total, null: null, direction: direction)
                #expect(abs(logged - log(direct)) < 1e-9, "\(bad)/\(total) against \(null), \(direction), τ \(tau)")
            }
        }
    }

    @Test func noCallsBoundNothingAndCarryNoEvidence() {
        #expect(sequence.lowerBound(bad: 0, total: 0, alpha: 0.05) == 0)
        #expect(sequence.upperBound(bad: 0, total: 0, alpha: 0.05) == 1)
        #expect(sequence.logEvidence(bad: 0, total: 0, null: 0.3, direction: .above) == 0)
        #expect(sequence.logEvidence(bad: 0, total: 0, null: 0.3, direction: .below) == 0)
    }

    @Test func noBadOutcomesBoundTheRateFromAboveOnly() {
        let upper = sequence.upperBound(bad: 0, total: 1_000, alpha: 0.05)
        #expect(sequence.lowerBound(bad: 0, total: 1_000, alpha: 0.05) == 0)
        // At least ln(1/α)/n (a single likelihood ratio could do no better), and not much more.
        #expect(upper > log(20) / 1_000)
        #expect(upper < 0.01)
        // Never any evidence that a rate is above anything.
        #expect(sequence.logEvidence(bad: 0, total: 1_000, null: 0.0001, direction: .above) <= 0)
    }

    @Test func everyCallBadBoundsTheRateFromBelowOnly() {
        #expect(sequence.upperBound(bad: 50, total: 50, alpha: 0.05) == 1)
        #expect(sequence.lowerBound(bad: 50, total: 50, alpha: 0.05) > 0.8)
    }

    @Test func boundsHoldTheEstimateAndNarrowWithData() {
        var width = 1.0
        for total in [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] {
            let bad = total / 200
            let lower = sequence.lowerBound(bad: bad, total: total, alpha: 0.01)
            let upper = sequence.upperBound(bad: bad, total: total, alpha: 0.01)
            #expect(lower.isFinite && upper.isFinite)
            #expect(lower <= 0.005 && 0.005 <= upper, "\(bad)/\(total): \(lower)...\(upper)")
            #expect(upper - lower < width, "\(total)")
            width = upper - lower
        }
        // Ten million calls at 0.5 %: within a few percent of the rate.
        #expect(width < 0.0002)
    }

    @Test func aLargerAlphaGivesTighterBounds() {
        var lower = 0.0, upper = 1.0
        for alpha in [1e-9, 1e-6, 1e-3, 0.01, 0.05, 0.2] {
            let l = sequence.lowerBound(bad: 40, total: 2_000, alpha: alpha)
            let u = sequence.upperBound(bad: 40, total: 2_000, alpha: alpha)
            #expect(l > lower && u < upper, "α \(alpha)")
            lower = l
            upper = u
        }
    }

    @Test func theBoundsAreWhereTheEvidenceReachesOneOverAlpha() {
        let lower = sequence.lowerBound(bad: 25, total: 1_000, alpha: 0.01)
        let upper = sequence.upperBound(bad: 25, total: 1_000, alpha: 0.01)
        #expect(abs(sequence.logEvidence(bad: 25, total: 1_000, null: lower, direction: .above) - log(100)) < 1e-6)
        #expect(abs(sequence.logEvidence(bad: 25, total: 1_000, null: upper, direction: .below) - log(100)) < 1e-6)
    }

    // MARK: - Ville's inequality, exactly

    /// The exact chance that a rule rejecting at `rejects(bad, calls)` ever
    /// rejects within `calls` calls at rate `p`, looking after every call: a
    /// dynamic program over the bad count of the paths not yet rejected.
    static func everRejects(p: Double, calls: Int, _ rejects: (Int, Int) -> Bool) -> Double {
        var alive = [1.0], rejected = 0.0
        for n in 1...calls {
            var next = [Double](repeating: 0, count: n + 1)
            for (bad, mass) in alive.enumerated() where mass > 0 {
                next[bad] += mass * (1 - p)
                next[bad + 1] += mass * p
            }
            for bad in 0...n where next[bad] > 0 && rejects(bad, n) {
                rejected += next[bad]
                next[bad] = 0
            }
            alive = next
        }
        return rejected
    }

    @Test(arguments: [0.005, 0.05, 0.3])
    func theChanceOfEverRejectingATrueRateIsAtMostAlpha(_ p: Double) {
        let alpha = 0.05, threshold = log(1 / alpha)
        let above = Self.everRejects(p: p, calls: 400) { bad, n in
            sequence.logEvidence(bad: bad, total: n, null: p, direction: .above) >= threshold
        }
        let below = Self.everRejects(p: p, calls: 400) { bad, n in
            sequence.logEvidence(bad: bad, total: n, null: p, direction: .below) >= threshold
        }
        #expect(above <= alpha, "above: \(above)")
        #expect(below <= alpha, "below: \(below)")
    }

    /// The same computation fails a fixed-sample test looked at after every call.
    @Test func theExactCheckCatchesAFixedSampleTestLookedAtRepeatedly() {
        let p = 0.05
        let critical = ProportionTest.criticalValue(confidence: 0.95)
        let everRejected = Self.everRejects(p: p, calls: 400) { bad, n in
            Double(bad) > Double(n) * p + critical * (Double(n) * p * (1 - p)).squareRoot()
        }
        #expect(everRejected > 0.2, "\(everRejected)")
    }
}
