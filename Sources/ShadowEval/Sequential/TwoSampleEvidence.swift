/// The evidence of two sides' counts against a two-sample null, from each
/// side's ``RateConfidenceSequence`` by a union bound.
///
/// Against "the candidate is within the margin" (`candidateWorse`): the null
/// is `candidate ≤ limit(reference)`, and
/// `E = inf_q max(M_ref,below(q), M_cand,above(limit(q)))`. Against "the
/// candidate is beyond the margin": the null is `candidate ≥ limit(reference)`,
/// and `E = inf_q max(M_cand,below(limit(q)), M_ref,above(q))`.
///
/// If the null holds with the reference's true rate `r`, `E` is at most the
/// maximum at `q = r`: two supermartingales, each at least `2/α` at some
/// look with chance at most `α/2`; so `P(E ≥ 2/α at some look) ≤ α`. One
/// term increases in `q` and the other decreases, so the infimum lies where
/// they cross.
struct TwoSampleEvidence {
    struct Counts {
        var candidateBad: Double
        var candidateCalls: Double
        var referenceBad: Double
        var referenceCalls: Double
    }

    let sequence: RateConfidenceSequence
    let counts: Counts
    let margin: MetricTolerance
    let candidateWorse: Bool

    /// The margin's limit at the reference rate `q` (at most 1) and its slope.
    func limit(_ q: Double) -> (value: Double, slope: Double) {
        let value = margin.limit(reference: q)
        return value >= 1 ? (1, 0) : (value, 1 + margin.relative)
    }

    /// The term that increases in `q`: the reference's evidence against "at
    /// least q" (violation), or the candidate's against "at least limit(q)" (pass).
    func increasing(_ q: Double) -> (value: Double, slope: Double) {
        if candidateWorse {
            return sequence.logEvidenceAndSlope(
                bad: counts.referenceBad, total: counts.referenceCalls, null: q, direction: .below)
        }
        let (p, dp) = limit(q)
        let (value, slope) = sequence.logEvidenceAndSlope(
            bad: counts.candidateBad, total: counts.candidateCalls, null: p, direction: .below)
        return (value, slope * dp)
    }

    /// The term that decreases in `q`: the candidate's evidence against "at
    /// most limit(q)" (violation), or the reference's against "at most q" (pass).
    func decreasing(_ q: Double) -> (value: Double, slope: Double) {
        if !candidateWorse {
            return sequence.logEvidenceAndSlope(
                bad: counts.referenceBad, total: counts.referenceCalls, null: q, direction: .above)
        }
        let (p, dp) = limit(q)
        let (value, slope) = sequence.logEvidenceAndSlope(
            bad: counts.candidateBad, total: counts.candidateCalls, null: p, direction: .above)
        return (value, slope * dp)
    }

    /// `ln max(terms at q)`: at least `ln E`, for any `q`.
    func ceiling(at q: Double) -> Double {
        Swift.max(increasing(q).value, decreasing(q).value)
    }

    /// `ln E` and where the terms cross (`nil` when the infimum is at 0 or 1).
    /// The value is a lower bound of `ln E` from the final bracket `[a, b]`,
    /// `max(increasing(a), decreasing(b))`, so a p-value from it never errs small.
    func infimum(start: Double?) -> (value: Double, crossing: Double?) {
        let atZero = (increasing(0).value, decreasing(0).value)
        if atZero.0 >= atZero.1 { return (atZero.0, nil) }
        let atOne = (increasing(1).value, decreasing(1).value)
        if atOne.0 <= atOne.1 { return (atOne.1, nil) }
        let estimate = counts.referenceCalls > 0 ? counts.referenceBad / counts.referenceCalls : 0.5
        let bracket = RateConfidenceSequence.crossing(low: 0, high: 1, guess: start ?? estimate) { q in
            let (up, upSlope) = increasing(q), (down, downSlope) = decreasing(q)
            return (up - down, upSlope - downSlope)
        }
        let value = Swift.max(increasing(bracket.low).value, decreasing(bracket.high).value)
        return (value, (bracket.low + bracket.high) / 2)
    }
}
