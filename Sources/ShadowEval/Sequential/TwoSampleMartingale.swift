#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The evidence, look by look, that a candidate's rate of bad outcomes lies
/// beyond a margin's limit of the reference's, with the reference's rate
/// never estimated: a test martingale whose value is at least `1/α` at some
/// look with chance at most `α` while the null holds.
///
/// With `limit(r) = r (1 + relative) + absolute` of the margin, the null is
/// `candidate ≤ limit(reference)` when the candidate is tested as worse
/// (``Direction/worse``) and `candidate ≥ limit(reference)` when it is tested
/// as within the margin (``Direction/within``).
///
/// Between two looks a batch adds `x_c` bad outcomes in `n_c` candidate calls
/// and `x_r` in `n_r` reference calls. For a tilt `λ > 0` on the candidate,
/// the batch multiplies the evidence by (`worse`)
///
///     exp(λ x_c − μ x_r − n_c · absolute · (e^λ − 1)),   n_r (1 − e^−μ) = n_c (1 + relative)(e^λ − 1)
///
/// or (`within`)
///
///     exp(−λ x_c + μ x_r + n_c · absolute · (1 − e^−λ)),  n_r (e^μ − 1) = n_c (1 + relative)(1 − e^−λ).
///
/// Why its expectation is at most 1 under the null, whatever the reference's
/// rate `r`: `ln E[e^{t x}] = n ln(1 + p (e^t − 1)) ≤ n p (e^t − 1)` for a
/// binomial, so for `worse` the log of the expectation is at most
/// `n_c (e^λ − 1) limit(r) − n_r r (1 − e^−μ) − n_c absolute (e^λ − 1)`,
/// and `μ` is chosen so that the terms in `r` cancel, leaving 0 (for `within`
/// the same with the signs turned, using `candidate ≥ limit(r)`). The
/// reference's noise is thus weighed in the same sum as the candidate's,
/// not bounded on its own (no union bound, no search over `r`), and the null
/// only needs each batch's rates to keep to the margin: rates that move
/// together (diurnal load) are fine.
///
/// The product over batches is a nonnegative supermartingale for each `λ` of
/// a grid (``RateConfidenceSequence``'s tilts and half-normal weights, scale
/// `τ`); so is their mixture `M`, and Ville's inequality gives
/// `P(M ≥ 1/α at any look) ≤ α`.
///
/// A batch is what both sides gained since the last look; when one side has
/// no new calls, the other side's are passed over (nothing is bet on them).
/// Which calls a batch holds and what is bet on them depend on the counts of
/// calls alone, never on their outcomes, so the argument above holds for
/// each batch. For `worse`, `μ` is finite only while
/// `n_c (1 + relative)(e^λ − 1) < n_r`: a batch with few reference calls for
/// its candidate calls bets with a smaller tilt, at most
/// `ln(1 + 0.9 n_r / (n_c (1 + relative)))` (so `μ ≤ ln 10`).
///
/// The argument assumes that, given the calls' counts, outcomes are
/// independent, and that within each batch the candidate's calls, on
/// average, keep to the null against the reference's. It also assumes that
/// when the caller looks does not depend on the outcomes since its last look
/// (a look every evaluation, as rules and trials do): the bet on a batch
/// depends on its two sides' counts, which a look timed by outcomes could choose.
public struct TwoSampleMartingale: Sendable, Hashable {
    /// Which null the evidence is against.
    public enum Direction: Sendable, Hashable {
        /// Evidence that the candidate is worse than the limit (against `candidate ≤ limit`).
        case worse
        /// Evidence that the candidate is within the limit (against `candidate ≥ limit`).
        case within
    }

    /// The largest share `n_c (1 + relative)(e^λ − 1) / n_r` a batch bets on (`worse`).
    static let largestReferenceShare = 0.9

    public let direction: Direction
    public let margin: MetricTolerance
    /// The mixture's weights over the tilts (``RateConfidenceSequence``'s).
    let logWeights: [Double]
    /// Each tilt's log of its product so far.
    private var logProducts: [Double]
    /// The counts taken so far, bet on or passed over: the next batch is what came since.
    public private(set) var taken = Counts()

    /// Counts of both sides: calls and bad outcomes.
    public struct Counts: Sendable, Hashable {
        public var candidateBad = 0
        public var candidateCalls = 0
        public var referenceBad = 0
        public var referenceCalls = 0

        public init(candidateBad: Int = 0, candidateCalls: Int = 0, referenceBad: Int = 0, referenceCalls: Int = 0) {
            self.candidateBad = candidateBad
            self.candidateCalls = candidateCalls
            self.referenceBad = referenceBad
            self.referenceCalls = referenceCalls
        }
    }

    /// Makes the evidence of `direction` against the margin's limit, mixed over `sequence`'s tilts.
    public init(direction: Direction, margin: MetricTolerance, sequence: RateConfidenceSequence) {
        self.direction = direction
        self.margin = margin
        logWeights = sequence.logWeights
        logProducts = Array(repeating: 0, count: sequence.logWeights.count)
    }

    /// `ln M`: the log of the mixture at the latest batch (0 before any).
    public var logEvidence: Double {
        var top = -Double.infinity
        for j in logWeights.indices { top = Swift.max(top, logWeights[j] + logProducts[j]) }
        guard top.isFinite else { return top }
        var sum = 0.0
        for j in logWeights.indices { sum += exp(logWeights[j] + logProducts[j] - top) }
        return top + log(sum)
    }

    /// Takes the calls since the last update as a batch; `counts` are
    /// cumulative. When only one side has new calls, they are passed over
    /// (taken, with nothing bet on them): a batch never spans two looks, so
    /// the null needs to hold only within each look. Counts that cannot be
    /// (bad outcomes below the last ones or above the calls) are not taken:
    /// they wait for counts that add up. Returns whether a batch was bet on.
    @discardableResult
    public mutating func update(to counts: Counts) -> Bool {
        let nc = Double(counts.candidateCalls - taken.candidateCalls)
        let nr = Double(counts.referenceCalls - taken.referenceCalls)
        let xc = Double(counts.candidateBad - taken.candidateBad)
        let xr = Double(counts.referenceBad - taken.referenceBad)
        guard nc >= 0, nr >= 0, xc >= 0, xr >= 0, xc <= nc, xr <= nr, nc + nr > 0 else { return false }
        taken = counts
        guard nc > 0, nr > 0 else { return false }
        let scale = nc * (1 + margin.relative)
        for j in logProducts.indices {
            logProducts[j] += batchLogFactor(tilt: RateConfidenceSequence.tilts[j], nc: nc, nr: nr, xc: xc, xr: xr, scale: scale)
        }
        return true
    }

    /// `ln` of one tilt's factor for a batch (see the type's documentation).
    /// A margin too large to be finite leaves nothing to bet on: 0.
    private func batchLogFactor(tilt: Double, nc: Double, nr: Double, xc: Double, xr: Double, scale: Double) -> Double {
        guard scale.isFinite, margin.absolute.isFinite else { return 0 }
        switch direction {
        case .worse:
            // The tilt a batch can bet with: μ finite, at most ln 10.
            let largest = log1p(Self.largestReferenceShare * nr / scale)
            let lambda = Swift.min(tilt, largest)
            let grown = expm1(lambda)
            let mu = -log1p(-scale * grown / nr)
            return lambda * xc - mu * xr - nc * margin.absolute * grown
        case .within:
            let shrunk = -expm1(-tilt)
            let mu = log1p(scale * shrunk / nr)
            return -tilt * xc + mu * xr + nc * margin.absolute * shrunk
        }
    }
}
