import ShadowEval
import Testing

/// The full calibration of the sequential tests (`make calibration`, or
/// `SENTINEL_CALIBRATION=1`): 1,000 seeded canary steps per case, 1 % of
/// 100 req/s to the canary, a look every 10 s. It prints the figures that
/// `docs/decisions.md` ("The sequential judge") quotes.
///
/// False alarms must be at most `α` with a 99 % Wilson upper bound at most
/// 1.2 `α`; the negative controls (a fixed-sample test at every look, and
/// `α` inflated tenfold) must fail that check.
@Suite(.enabled(if: SequentialSimulation.full, "SENTINEL_CALIBRATION=1 (make calibration)"))
struct SequentialCalibrationFullTests {
    typealias Simulation = SequentialSimulation
    static let alpha = 0.05
    static let sequences = 1_000
    /// The per-test α of a release of 6 steps × 2 metrics with a 1 % budget.
    static let releaseAlpha = SequentialBudget(total: 0.01, steps: 6, metrics: 2).perTest

    static func report(_ name: String, _ outcomes: Simulation.Outcomes) {
        print("calibration: \(name): \(outcomes)")
    }

    static func calibrated(_ alarms: Int, alpha: Double = alpha) -> Bool {
        Simulation.isCalibrated(alarms, of: sequences, alpha: alpha, slack: 1.2)
    }

    // MARK: - Error rates: false alarms over 45 minutes (270 looks)

    @Test(arguments: [(0.005, UInt64(10_000)), (0.02, UInt64(11_000))])
    func equalErrorRatesViolateAtMostAlpha(_ rate: Double, _ seed: UInt64) {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: rate, referenceRate: rate, sequences: Self.sequences, seed: seed
        ) { SequentialProportionTest(alpha: Self.alpha) }
        Self.report("equal rates \(rate), seed \(seed)", outcomes)
        #expect(Self.calibrated(outcomes.violations), "\(outcomes)")
    }

    /// A candidate exactly at the pass margin (0.5 % × 1.1 + 1 point) must not pass more often than `α`.
    @Test func aCandidateAtThePassMarginPassesAtMostAlpha() {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.0155, referenceRate: 0.005, sequences: Self.sequences,
            seed: 12_000
        ) { SequentialProportionTest(alpha: Self.alpha) }
        Self.report("candidate at the pass margin, seed 12000", outcomes)
        #expect(Self.calibrated(outcomes.passes), "\(outcomes)")
    }

    @Test func theNegativeControlsFail() {
        let fixed = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.005, referenceRate: 0.005, sequences: Self.sequences,
            seed: 10_000
        ) { Simulation.FixedSampleJudge(alpha: Self.alpha) }
        Self.report("fixed-sample test at every look, seed 10000", fixed)
        #expect(!Self.calibrated(fixed.violations), "\(fixed)")
        let inflated = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.005, referenceRate: 0.005, sequences: Self.sequences,
            seed: 10_000
        ) { SequentialProportionTest(alpha: 10 * Self.alpha) }
        Self.report("alpha inflated tenfold, seed 10000", inflated)
        #expect(!Self.calibrated(inflated.violations), "\(inflated)")
    }

    // MARK: - Error rates: power (up to 2 hours, 7,200 canary calls)

    @Test func aTwoPointIncreaseIsCaught() {
        for (alpha, calls) in [(Self.alpha, 1_000), (Self.releaseAlpha, 1_500)] {
            let outcomes = Simulation.proportions(
                traffic: .onePercent(minutes: 120), candidateRate: 0.025, referenceRate: 0.005, sequences: Self.sequences,
                seed: 13_000
            ) { SequentialProportionTest(alpha: alpha) }
            Self.report("0.5 % → 2.5 %, alpha \(alpha), seed 13000", outcomes)
            #expect(outcomes.violations(within: calls) >= 990, "α \(alpha): \(outcomes)")
        }
    }

    @Test func aHealthyCanaryPasses() {
        for (alpha, calls) in [(Self.alpha, 2_700), (Self.releaseAlpha, 4_200)] {
            let outcomes = Simulation.proportions(
                traffic: .onePercent(minutes: 120), candidateRate: 0.005, referenceRate: 0.005, sequences: Self.sequences,
                seed: 14_000, stopAtPass: true
            ) { SequentialProportionTest(alpha: alpha) }
            Self.report("healthy 0.5 %, alpha \(alpha), seed 14000", outcomes)
            // 99 % of the sequences decide within `calls`, the false violations (at most α: equalErrorRates…) included.
            #expect(outcomes.passes(within: calls) + outcomes.violations(within: calls) >= 990, "α \(alpha): \(outcomes)")
            #expect(Double(outcomes.violations) <= alpha * Double(Self.sequences) + 1, "α \(alpha): \(outcomes)")
        }
    }

    /// Why `τ` 1: the calls by which 99 % of the steps caught 0.5 % → 2.5 %,
    /// and by which 95 % of healthy steps passed, for `τ` from 0.5 to 3; the
    /// default must be within 10 % of the best on both.
    @Test func theDefaultTauIsNearTheBestForATwoPointShift() throws {
        var caught: [Double: Int] = [:], passed: [Double: Int] = [:]
        for tau in [0.5, 1, 1.5, 2, 3] {
            let worse = Simulation.proportions(
                traffic: .onePercent(minutes: 120), candidateRate: 0.025, referenceRate: 0.005, sequences: Self.sequences,
                seed: 13_000
            ) { SequentialProportionTest(alpha: Self.alpha, tau: tau) }
            let healthy = Simulation.proportions(
                traffic: .onePercent(minutes: 120), candidateRate: 0.005, referenceRate: 0.005, sequences: Self.sequences,
                seed: 14_000, stopAtPass: true
            ) { SequentialProportionTest(alpha: Self.alpha, tau: tau) }
            Self.report("tau \(tau), 0.5 % → 2.5 %, seed 13000", worse)
            Self.report("tau \(tau), healthy 0.5 %, seed 14000", healthy)
            caught[tau] = worse.violationQuantile(0.99) ?? .max
            // 95 %: up to α (5 %) of healthy steps may violate first.
            passed[tau] = healthy.passQuantile(0.95) ?? .max
        }
        let best = (caught: try #require(caught.values.min()), passed: try #require(passed.values.min()))
        #expect(Double(caught[RateConfidenceSequence.defaultTau] ?? .max) <= 1.1 * Double(best.caught), "\(caught)")
        #expect(Double(passed[RateConfidenceSequence.defaultTau] ?? .max) <= 1.1 * Double(best.passed), "\(passed)")
    }

    // MARK: - Latency: log-normal, median 50 ms, σ 0.5 (p99 about 160 ms)

    /// Identical latencies against one threshold (`scale` 1), and latencies
    /// exactly 1.2 × slower against `scale` 1.2: both on the edge of the null.
    @Test(arguments: [(1.0, 1.0, UInt64(20_000)), (1.2, 1.2, UInt64(21_000))])
    func latenciesOnTheEdgeViolateAtMostAlpha(_ slowdown: Double, _ scale: Double, _ seed: UInt64) {
        let outcomes = Simulation.latencies(
            traffic: .onePercent(minutes: 45), slowdown: slowdown, sequences: Self.sequences, seed: seed
        ) { SequentialLatencyTest(quantile: 0.99, scale: scale, alpha: Self.alpha) }
        Self.report("latency × \(slowdown), scale \(scale), seed \(seed)", outcomes)
        #expect(Self.calibrated(outcomes.violations), "\(outcomes)")
    }

    @Test func aFixedSampleTailTestFailsTheLatencyCheck() {
        let outcomes = Simulation.latencies(
            traffic: .onePercent(minutes: 45), slowdown: 1, sequences: Self.sequences, seed: 20_000
        ) { Simulation.FixedSampleTailJudge(alpha: Self.alpha, quantile: 0.99) }
        Self.report("fixed-sample tail test at every look, seed 20000", outcomes)
        #expect(!Self.calibrated(outcomes.violations), "\(outcomes)")
    }

    @Test func slowerLatenciesAreCaughtAndHealthyOnesPass() {
        let slower = Simulation.latencies(
            traffic: .onePercent(minutes: 45), slowdown: 1.5, sequences: Self.sequences, seed: 22_000
        ) { SequentialLatencyTest(quantile: 0.99, scale: 1.2, alpha: Self.alpha) }
        Self.report("latency × 1.5, scale 1.2, seed 22000", slower)
        #expect(slower.violations(within: 1_800) >= 990, "\(slower)")
        let healthy = Simulation.latencies(
            traffic: .onePercent(minutes: 120), slowdown: 1, sequences: Self.sequences, seed: 23_000, stopAtPass: true
        ) { SequentialLatencyTest(quantile: 0.99, scale: 1.2, alpha: Self.alpha) }
        Self.report("healthy latency, scale 1.2, seed 23000", healthy)
        #expect(healthy.passes(within: 6_000) >= 990, "\(healthy)")
    }
}
