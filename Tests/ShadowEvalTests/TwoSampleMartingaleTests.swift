import Foundation
import Resilience
import ShadowEval
import Testing

/// The two-sample test martingale: the documented batch factor, when batches
/// are taken, and its guarantee by simulation where the reference is as small
/// as the candidate and where both sides' rates move together.
@Suite struct TwoSampleMartingaleTests {
    typealias Simulation = SequentialSimulation
    typealias Counts = TwoSampleMartingale.Counts

    static let margin = MetricTolerance(absolute: 0.0025, relative: 0.1)

    /// The mixture as documented, summed directly in linear space over the
    /// batches: tilts `0.01 × 1.35^j` (24), weights `∝ λ exp(−λ²/2τ²)`.
    static func directEvidence(
        _ batches: [(xc: Double, nc: Double, xr: Double, nr: Double)], margin: MetricTolerance, worse: Bool, tau: Double = 1
    ) -> Double {
        let tilts = (0..<24).map { 0.01 * pow(1.35, Double($0)) }
        let weights = tilts.map { $0 * exp(-$0 * $0 / (2 * tau * tau)) }
        let sum = weights.reduce(0, +)
        var evidence = 0.0
        for (tilt, weight) in zip(tilts, weights) {
            var product = 1.0
            for batch in batches {
                let scale = batch.nc * (1 + margin.relative)
                if worse {
                    let lambda = min(tilt, log(1 + 0.9 * batch.nr / scale))
                    let mu = -log(1 - scale * (exp(lambda) - 1) / batch.nr)
                    product *= exp(lambda * batch.xc - mu * batch.xr - batch.nc * margin.absolute * (exp(lambda) - 1))
                } else {
                    let mu = log(1 + scale * (1 - exp(-tilt)) / batch.nr)
                    product *= exp(-tilt * batch.xc + mu * batch.xr + batch.nc * margin.absolute * (1 - exp(-tilt)))
                }
            }
            evidence += weight / sum * product
        }
        return evidence
    }

    static func cumulative(_ batches: [(xc: Double, nc: Double, xr: Double, nr: Double)]) -> [Counts] {
        var counts = Counts()
        return batches.map { batch in
            counts.candidateBad += Int(batch.xc)
            counts.candidateCalls += Int(batch.nc)
            counts.referenceBad += Int(batch.xr)
            counts.referenceCalls += Int(batch.nr)
            return counts
        }
    }

    @Test(arguments: [true, false])
    func theEvidenceIsTheDocumentedProductOfBatchFactors(_ worse: Bool) {
        // Even, lopsided (few reference calls: the tilt is capped) and bad-heavy batches.
        let batches: [(xc: Double, nc: Double, xr: Double, nr: Double)] = [
            (2, 100, 1, 300), (0, 50, 0, 50), (5, 200, 0, 20), (1, 10, 9, 1_000), (30, 400, 2, 400),
        ]
        var martingale = TwoSampleMartingale(
            direction: worse ? .worse : .within, margin: Self.margin, sequence: RateConfidenceSequence())
        for (index, counts) in Self.cumulative(batches).enumerated() {
            let taken = martingale.update(to: counts)
            #expect(taken)
            let direct = Self.directEvidence(Array(batches[...index]), margin: Self.margin, worse: worse)
            #expect(abs(martingale.logEvidence - log(direct)) < 1e-9, "batch \(index): \(martingale.logEvidence) vs \(log(direct))")
        }
    }

    /// The guarantee itself, computed exactly rather than simulated: for one
    /// batch, the expectation of `M` over every outcome `(x_c, x_r)`, with the
    /// candidate exactly on the null's edge, `limit(r)`, is at most 1. Small
    /// batches, even and lopsided (capped), rates from 0.1 % to 60 %.
    @Test(arguments: [
        MetricTolerance(absolute: 0, relative: 0), MetricTolerance(absolute: 0.0025, relative: 0.1),
        MetricTolerance(absolute: 0.01, relative: 0.5),
    ])
    func oneBatchHasAnExpectationOfAtMostOneOnTheNullsEdge(_ margin: MetricTolerance) {
        func pmf(_ n: Int, _ p: Double) -> [Double] {
            (0...n).map { k in
                let logChoose = lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
                let logP = k == 0 ? 0 : Double(k) * log(p)
                let logQ = n == k ? 0 : Double(n - k) * log1p(-p)
                return exp(logChoose + logP + logQ)
            }
        }
        for direction in [TwoSampleMartingale.Direction.worse, .within] {
            for (nc, nr) in [(1, 1), (3, 1), (10, 2), (10, 10), (2, 30), (25, 25), (30, 5)] {
                for r in [0.001, 0.01, 0.05, 0.2, 0.6] {
                    let limit = margin.limit(reference: r)
                    guard limit < 1 else { continue }
                    let candidate = pmf(nc, limit), reference = pmf(nr, r)
                    var expectation = 0.0
                    for xc in 0...nc {
                        for xr in 0...nr {
                            var martingale = TwoSampleMartingale(direction: direction, margin: margin, sequence: RateConfidenceSequence())
                            martingale.update(to: Counts(candidateBad: xc, candidateCalls: nc, referenceBad: xr, referenceCalls: nr))
                            expectation += candidate[xc] * reference[xr] * exp(martingale.logEvidence)
                        }
                    }
                    #expect(expectation <= 1 + 1e-12, "\(direction), n_c \(nc), n_r \(nr), r \(r): \(expectation)")
                }
            }
        }
    }

    @Test func callsOfOneSideAloneArePassedOverAndImpossibleCountsWait() {
        var martingale = TwoSampleMartingale(direction: .worse, margin: Self.margin, sequence: RateConfidenceSequence())
        #expect(martingale.logEvidence == 0)
        // Candidate calls alone: nothing to weigh them against; passed over, nothing bet.
        let alone = Counts(candidateBad: 4, candidateCalls: 40, referenceBad: 0, referenceCalls: 0)
        let betAlone = martingale.update(to: alone)
        #expect(!betAlone)
        #expect(martingale.taken == alone)
        #expect(martingale.logEvidence == 0)
        // The next look is a batch of its own: the 40 calls passed over are not in it.
        let counts = Counts(candidateBad: 6, candidateCalls: 60, referenceBad: 1, referenceCalls: 200)
        let bet = martingale.update(to: counts)
        #expect(bet)
        #expect(martingale.taken == counts)
        let direct = Self.directEvidence([(2, 20, 1, 200)], margin: Self.margin, worse: true)
        #expect(abs(martingale.logEvidence - log(direct)) < 1e-9)
        // Reference calls alone: passed over too.
        let referenceAlone = Counts(candidateBad: 6, candidateCalls: 60, referenceBad: 1, referenceCalls: 900)
        let betReference = martingale.update(to: referenceAlone)
        #expect(!betReference && martingale.taken == referenceAlone)
        // More bad outcomes than calls since the last look (counters read apart): not taken, the next look makes up.
        let evidence = martingale.logEvidence
        let impossible = martingale.update(to: Counts(candidateBad: 20, candidateCalls: 70, referenceBad: 1, referenceCalls: 950))
        #expect(!impossible && martingale.taken == referenceAlone && martingale.logEvidence == evidence)
        let madeUp = martingale.update(to: Counts(candidateBad: 20, candidateCalls: 90, referenceBad: 1, referenceCalls: 1_000))
        #expect(madeUp && martingale.logEvidence > evidence)
    }

    @Test func moreCandidateFailuresAreMoreEvidenceOfWorseAndLessOfWithin() {
        func evidence(_ direction: TwoSampleMartingale.Direction, candidateBad: Int) -> Double {
            var martingale = TwoSampleMartingale(direction: direction, margin: Self.margin, sequence: RateConfidenceSequence())
            martingale.update(to: Counts(candidateBad: candidateBad, candidateCalls: 4_000, referenceBad: 20, referenceCalls: 4_000))
            return martingale.logEvidence
        }
        let worse = (0...40).map { evidence(.worse, candidateBad: 4 * $0) }
        let within = (0...40).map { evidence(.within, candidateBad: 4 * $0) }
        #expect(worse == worse.sorted())
        #expect(within == within.sorted(by: >))
        #expect(worse.last! > log(1_000) && within.first! > log(1_000))
    }

    @Test func hugeCountsStayFinite() {
        var martingale = TwoSampleMartingale(direction: .worse, margin: Self.margin, sequence: RateConfidenceSequence())
        martingale.update(to: Counts(candidateBad: 300_000, candidateCalls: 10_000_000, referenceBad: 0, referenceCalls: 10_000_000))
        #expect(martingale.logEvidence.isFinite && martingale.logEvidence > 1_000)
        var within = TwoSampleMartingale(direction: .within, margin: Self.margin, sequence: RateConfidenceSequence())
        within.update(to: Counts(candidateBad: 0, candidateCalls: 10_000_000, referenceBad: 10_000_000, referenceCalls: 10_000_000))
        #expect(within.logEvidence.isFinite && within.logEvidence > 1_000)
    }

    // MARK: - The guarantee where the union bound was weakest

    static let alpha = 0.05
    static var sequences: Int { Simulation.full ? 1_000 : 300 }
    /// The Wilson bound's slack: 1.2 `α` in the full calibration; 2 `α` on the fewer sequences of `make test`.
    static var slack: Double { Simulation.full ? 1.2 : 2 }

    /// 10 req/s at 50 %: the reference no larger than the candidate (the batch tilt is capped).
    static let evenTraffic = Simulation.Traffic(candidatePerLook: 50, referencePerLook: 50, looks: 270)

    /// Prints a case's figures in the full calibration (`make calibration`), which `docs/decisions.md` quotes.
    static func report(_ name: String, _ figures: Any) {
        if Simulation.full { print("calibration: \(name): \(figures)") }
    }

    /// Steps on an even split, stable at 0.5 %, both verdicts against ``margin``.
    static func evenSplit(candidateRate: Double, seed: UInt64, alpha: Double = alpha) -> Simulation.Outcomes {
        let outcomes = Simulation.proportions(
            traffic: evenTraffic, candidateRate: candidateRate, referenceRate: 0.005, sequences: sequences, seed: seed
        ) {
            SequentialProportionTest(alpha: alpha, violationMargin: margin, passMargin: margin)
        }
        report("even split, candidate at \(candidateRate), alpha \(alpha), seed \(seed)", outcomes)
        return outcomes
    }

    /// Steps of 270 looks, each adding the calls `batch` draws (counts since
    /// the last look), judged with no margin: how many said violation.
    static func violations(seed: UInt64, batch: (Int, inout Xoshiro256StarStar) -> Counts) -> Int {
        var violations = 0
        for index in 0..<sequences {
            var rng = Xoshiro256StarStar(seed: seed &+ UInt64(index))
            var test = SequentialProportionTest(alpha: alpha, violationMargin: MetricTolerance(absolute: 0, relative: 0))
            var counts = Counts()
            for look in 1...270 {
                let added = batch(look, &rng)
                counts.candidateBad += added.candidateBad
                counts.candidateCalls += added.candidateCalls
                counts.referenceBad += added.referenceBad
                counts.referenceCalls += added.referenceCalls
                let verdict = test.look(
                    candidateBad: counts.candidateBad, candidateTotal: counts.candidateCalls,
                    referenceBad: counts.referenceBad, referenceTotal: counts.referenceCalls)
                if verdict == .violation {
                    violations += 1
                    break
                }
            }
        }
        return violations
    }

    @Test func anEvenSplitAtTheViolationMarginViolatesAtMostAlpha() {
        // The candidate exactly at the limit: 0.5 % × 1.1 + ¼ point.
        let outcomes = Self.evenSplit(candidateRate: 0.008, seed: 30_000)
        #expect(Simulation.isCalibrated(outcomes.violations, of: Self.sequences, alpha: Self.alpha, slack: Self.slack), "\(outcomes)")
    }

    @Test func anEvenSplitAtThePassMarginPassesAtMostAlpha() {
        let outcomes = Self.evenSplit(candidateRate: 0.008, seed: 31_000)
        #expect(Simulation.isCalibrated(outcomes.passes, of: Self.sequences, alpha: Self.alpha, slack: Self.slack), "\(outcomes)")
    }

    @Test func anEvenSplitCatchesATwoPointIncrease() {
        let outcomes = Self.evenSplit(candidateRate: 0.025, seed: 32_000, alpha: 0.001)
        // 0.5 % → 2.5 % against the ¼-point + 10 % limit at α 0.001: 99 % by 5,000 canary calls.
        #expect(outcomes.violations(within: 5_000) >= Self.sequences * 99 / 100, "\(outcomes)")
    }

    /// Calls per look that vary at random (a look may have none on one side,
    /// the canary's share from 10 % to 90 %), and a canary whose share of the
    /// calls is largest when both sides' error rate is highest (0.2 % to 4 %,
    /// equal at every moment): on the totals, the canary would look worse
    /// (Simpson's paradox); batch by batch it is not.
    @Test func unevenLooksAndASplitThatFollowsTheErrorRateViolateAtMostAlpha() {
        let violations = Self.violations(seed: 34_000) { _, rng in
            let high = rng.nextUnit() < 0.3
            let rate = high ? 0.04 : 0.002
            let calls = Int(rng.next() % 120)
            let canary = Simulation.Binomial(calls, high ? 0.9 : 0.1).draw(&rng)
            let canaryBad = Simulation.Binomial(canary, rate).draw(&rng)
            let stableBad = Simulation.Binomial(calls - canary, rate).draw(&rng)
            return Counts(candidateBad: canaryBad, candidateCalls: canary, referenceBad: stableBad, referenceCalls: calls - canary)
        }
        Self.report("uneven looks, a split that follows the error rate, seed 34000", "\(violations) violations of \(Self.sequences)")
        #expect(Simulation.isCalibrated(violations, of: Self.sequences, alpha: Self.alpha, slack: Self.slack), "\(violations)")
    }

    /// Both sides' error rates follow the load through a day compressed into
    /// 45 minutes (from 0.2 % to 2 % and back), equal at every moment: the null
    /// holds batch by batch though the rates since the mark are never constant.
    @Test func ratesThatMoveTogetherViolateAtMostAlpha() {
        let violations = Self.violations(seed: 33_000) { look, rng in
            let rate = 0.011 - 0.009 * cos(2 * Double.pi * Double(look) / 270)
            let calls = 20 + Int(180 * (1 - cos(2 * Double.pi * Double(look) / 270)) / 2)
            let canaryBad = Simulation.Binomial(calls, rate).draw(&rng)
            let stableBad = Simulation.Binomial(4 * calls, rate).draw(&rng)
            return Counts(candidateBad: canaryBad, candidateCalls: calls, referenceBad: stableBad, referenceCalls: 4 * calls)
        }
        Self.report("rates that move together, seed 33000", "\(violations) violations of \(Self.sequences)")
        #expect(Simulation.isCalibrated(violations, of: Self.sequences, alpha: Self.alpha, slack: Self.slack), "\(violations)")
    }
}
