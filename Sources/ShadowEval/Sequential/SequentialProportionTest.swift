#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sequential, one-sided, two-sample test on a proportion of bad outcomes
/// (errors, timeouts, slow calls) whose false-alarm rate stays at most `α`
/// however often it looks.
///
/// Each look passes the **cumulative** counts since the mark (the start of a
/// canary step) on both sides; the test keeps its state between looks.
///
/// ```swift
/// var test = SequentialProportionTest(alpha: SequentialBudget(total: 0.01, steps: 6, metrics: 2).perTest)
/// switch test.look(candidateBad: 31, candidateTotal: 1_200, referenceBad: 590, referenceTotal: 118_800) {
/// case .violation: abort()          // worse than the reference, at 1 − α over all looks
/// case .pass: promote()             // no worse than the pass margin, at 1 − α
/// case .continue: break             // look again later
/// }
/// ```
///
/// How it decides: two ``TwoSampleMartingale``s weigh both sides' bad
/// outcomes batch by batch (a batch is what came between two looks), so the
/// reference's own noise is accounted for without estimating its rate. With
/// `limit(r) = r (1 + relative) + absolute` of a margin:
/// - **violation** once the evidence against `candidate ≤ limit_violation(reference)`
///   reaches `1/α`: at `1 − α`, the candidate's rate exceeds the reference's
///   limit. If in truth it does not, the chance that any look says violation
///   is at most `α`.
/// - **pass** once the evidence against `candidate ≥ limit_pass(reference)`
///   reaches `1/α` at a look where both sides have ``minimumCalls`` calls, and
///   no violation: at `1 − α`, the candidate is within the pass margin
///   (non-inferiority). If in truth it is worse than that, the chance that any
///   look says pass is at most `α`.
/// - **continue** otherwise. Between the two margins, more data decides.
///
/// The always-valid p-values behind these (``SequentialEvidence``) are
/// `min(1, 1/M)` with `M` the martingale's largest value so far: a violation
/// once `violationPValue ≤ α`, and it stays one. Zero bad outcomes, zero calls
/// and huge counts (10⁷ calls is tested) are all fine: the evidence is kept
/// in log space. The evidence's bounds (each side's ``RateConfidenceSequence``
/// at `α/2`, combined by a union bound) describe the rates; the verdicts come
/// from the martingales, which are sharper.
///
/// The guarantee assumes each side's outcomes are independent given the
/// calls' counts, at rates that keep to the margin between any two looks. See
/// `docs/decisions.md`, "The sequential judge".
public struct SequentialProportionTest: Sendable, Hashable {
    /// The false-alarm budget: the chance of a violation when the candidate is
    /// within the violation margin (and of a pass when it is beyond the pass margin).
    public let alpha: Double
    /// How much worse the candidate may be before it is a violation (default: not at all).
    public let violationMargin: MetricTolerance
    /// How much worse the candidate may be and still pass.
    public let passMargin: MetricTolerance
    /// Calls needed on each side before a pass; a violation needs no minimum.
    public let minimumCalls: Int
    /// The one-side bounds of the evidence (and the mixture's scale `τ`).
    public let sequence: RateConfidenceSequence
    /// The evidence that the candidate is worse than the violation margin.
    public private(set) var violationEvidence: TwoSampleMartingale
    /// The evidence that the candidate is within the pass margin.
    public private(set) var passEvidence: TwoSampleMartingale

    /// The default pass margin: 1 point, plus 10 % of the reference's rate
    /// (the trial judge's default rate tolerance).
    public static let defaultPassMargin = TrialCriteria.defaultRateTolerance
    /// The default ``minimumCalls``: 500.
    public static let defaultMinimumCalls = 500

    /// Candidate calls at the latest look.
    public private(set) var candidateCalls = 0
    /// Candidate bad outcomes at the latest look.
    public private(set) var candidateBad = 0
    /// Reference calls at the latest look.
    public private(set) var referenceCalls = 0
    /// Reference bad outcomes at the latest look.
    public private(set) var referenceBad = 0
    /// Looks taken.
    public private(set) var looks = 0
    /// Looks ignored for impossible counts.
    public private(set) var ignoredLooks = 0
    /// The smallest always-valid p-value of "no worse than the violation margin" so far.
    public private(set) var violationPValue = 1.0
    /// The smallest always-valid p-value of "worse than the pass margin" so
    /// far, over the looks with ``minimumCalls`` on both sides (1 before).
    public private(set) var passPValue = 1.0

    /// Makes a test; `alpha` is clamped to `[1e-12, 0.5]` and `minimumCalls` to at least 1.
    public init(
        alpha: Double = 0.05,
        violationMargin: MetricTolerance = MetricTolerance(absolute: 0, relative: 0),
        passMargin: MetricTolerance = SequentialProportionTest.defaultPassMargin,
        minimumCalls: Int = SequentialProportionTest.defaultMinimumCalls,
        tau: Double = RateConfidenceSequence.defaultTau
    ) {
        self.alpha = alpha.isFinite ? Swift.min(0.5, Swift.max(1e-12, alpha)) : 0.05
        self.violationMargin = violationMargin
        self.passMargin = passMargin
        self.minimumCalls = Swift.max(1, minimumCalls)
        sequence = RateConfidenceSequence(tau: tau)
        violationEvidence = TwoSampleMartingale(direction: .worse, margin: violationMargin, sequence: sequence)
        passEvidence = TwoSampleMartingale(direction: .within, margin: passMargin, sequence: sequence)
    }

    /// The verdict at the latest look: violation takes precedence over pass.
    public var verdict: SequentialVerdict {
        if violationPValue <= alpha { return .violation }
        if passPValue <= alpha { return .pass }
        return .continue
    }

    /// Takes a look at the cumulative counts since the mark and returns the verdict.
    ///
    /// A look with impossible counts (negative, bad above total, or below the
    /// previous look's) is ignored and counted in ``ignoredLooks``.
    @discardableResult
    public mutating func look(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int) -> SequentialVerdict {
        guard candidateBad >= 0, referenceBad >= 0, candidateBad <= candidateTotal, referenceBad <= referenceTotal,
            candidateTotal >= candidateCalls, referenceTotal >= referenceCalls,
            candidateBad >= self.candidateBad, referenceBad >= self.referenceBad
        else {
            ignoredLooks += 1
            return verdict
        }
        looks += 1
        let unchanged =
            (candidateBad, candidateTotal, referenceBad, referenceTotal)
            == (self.candidateBad, candidateCalls, self.referenceBad, referenceCalls)
        self.candidateBad = candidateBad
        self.referenceBad = referenceBad
        candidateCalls = candidateTotal
        referenceCalls = referenceTotal
        if unchanged { return verdict }
        let counts = TwoSampleMartingale.Counts(
            candidateBad: candidateBad, candidateCalls: candidateTotal,
            referenceBad: referenceBad, referenceCalls: referenceTotal)
        if violationEvidence.update(to: counts) {
            violationPValue = Swift.min(violationPValue, Self.pValue(logEvidence: violationEvidence.logEvidence))
        }
        let passTaken = passEvidence.update(to: counts)
        // A pass counts only at looks with enough calls (the evidence itself runs from the mark).
        if passTaken && candidateTotal >= minimumCalls && referenceTotal >= minimumCalls {
            passPValue = Swift.min(passPValue, Self.pValue(logEvidence: passEvidence.logEvidence))
        }
        return verdict
    }

    /// The evidence at the latest look (computes the four one-side bounds).
    public var evidence: SequentialEvidence {
        let half = alpha / 2
        let candidate = sequence.bounds(bad: candidateBad, total: candidateCalls, alpha: half)
        let reference = sequence.bounds(bad: referenceBad, total: referenceCalls, alpha: half)
        let candidateRate = candidateCalls > 0 ? Double(candidateBad) / Double(candidateCalls) : 0
        let referenceRate = referenceCalls > 0 ? Double(referenceBad) / Double(referenceCalls) : 0
        return SequentialEvidence(
            verdict: verdict, alpha: alpha, looks: looks, ignoredLooks: ignoredLooks,
            candidateCalls: candidateCalls, candidateBad: candidateBad,
            referenceCalls: referenceCalls, referenceBad: referenceBad,
            candidateRate: candidateRate, referenceRate: referenceRate, difference: candidateRate - referenceRate,
            lowerBound: candidate.lowerBound - reference.upperBound, upperBound: candidate.upperBound - reference.lowerBound,
            candidateBounds: candidate, referenceBounds: reference,
            violationPValue: violationPValue, passPValue: passPValue, minimumCalls: minimumCalls)
    }

    /// `p = min(1, 1/M)`; 1 if the evidence is not a number.
    static func pValue(logEvidence: Double) -> Double {
        logEvidence.isNaN ? 1 : Swift.min(1, Swift.max(0, exp(-logEvidence)))
    }
}
