/// What a ``SequentialProportionTest`` knows at its latest look: counts,
/// estimates, confidence-sequence bounds and always-valid p-values.
///
/// Every number is finite: rates of a side without calls are 0, bounds of
/// such a side are `[0, 1]`, and p-values are in `[0, 1]`.
public struct SequentialEvidence: Sendable, Hashable {
    /// The verdict at this look.
    public var verdict: SequentialVerdict
    /// The test's false-alarm budget `α`.
    public var alpha: Double
    /// Looks taken (ignored looks not counted).
    public var looks: Int
    /// Looks ignored because their counts were impossible (bad above total,
    /// negative, or below an earlier look's: the counts are cumulative).
    public var ignoredLooks: Int
    /// Candidate calls since the mark.
    public var candidateCalls: Int
    /// Candidate bad outcomes since the mark.
    public var candidateBad: Int
    /// Reference calls since the mark.
    public var referenceCalls: Int
    /// Reference bad outcomes since the mark.
    public var referenceBad: Int
    /// `candidateBad / candidateCalls` (0 without calls).
    public var candidateRate: Double
    /// `referenceBad / referenceCalls` (0 without calls).
    public var referenceRate: Double
    /// The effect estimate: `candidateRate − referenceRate`.
    public var difference: Double
    /// Lower bound of the difference: `P(difference < lower at some look) ≤ α`.
    public var lowerBound: Double
    /// Upper bound of the difference: `P(difference > upper at some look) ≤ α`.
    public var upperBound: Double
    /// The candidate's rate bounds, each one-sided at `1 − α/2`.
    public var candidateBounds: ClosedRange<Double>
    /// The reference's rate bounds, each one-sided at `1 − α/2`.
    public var referenceBounds: ClosedRange<Double>
    /// Always-valid p-value of "the candidate is no worse than the violation
    /// margin" (the smallest so far): a violation when at most ``alpha``.
    public var violationPValue: Double
    /// Always-valid p-value of "the candidate is worse than the pass margin"
    /// (the smallest so far): a pass when at most ``alpha`` and enough calls.
    public var passPValue: Double
    /// Calls needed on each side before a pass.
    public var minimumCalls: Int

    /// The evidence as trial evidence entries (snake_case keys), for events and the audit.
    public var entries: Evidence {
        [
            "verdict": .string(verdict.rawValue),
            "alpha": .number(alpha),
            "looks": .number(Double(looks)),
            "ignored_looks": .number(Double(ignoredLooks)),
            "candidate_calls": .number(Double(candidateCalls)),
            "candidate_bad": .number(Double(candidateBad)),
            "reference_calls": .number(Double(referenceCalls)),
            "reference_bad": .number(Double(referenceBad)),
            "candidate_rate": .number(candidateRate),
            "reference_rate": .number(referenceRate),
            "difference": .number(difference),
            "difference_lower": .number(lowerBound),
            "difference_upper": .number(upperBound),
            "candidate_lower": .number(candidateBounds.lowerBound),
            "candidate_upper": .number(candidateBounds.upperBound),
            "reference_lower": .number(referenceBounds.lowerBound),
            "reference_upper": .number(referenceBounds.upperBound),
            "violation_p_value": .number(violationPValue),
            "pass_p_value": .number(passPValue),
            "min_calls": .number(Double(minimumCalls)),
        ]
    }
}
