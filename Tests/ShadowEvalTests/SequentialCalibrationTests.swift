import ShadowEval
import Testing

/// The fast, seeded calibration of the sequential tests, in every test run:
/// a few hundred simulated canary steps with a look every 10 s. The bounds
/// are looser than the full calibration's (`make calibration`,
/// ``SequentialCalibrationFullTests``), and still fail a fixed-sample test
/// looked at every 10 s, as the negative controls show.
@Suite struct SequentialCalibrationTests {
    typealias Simulation = SequentialSimulation
    static let alpha = 0.05

    // MARK: - Error rates: 1 % of 100 req/s, 45 minutes, 270 looks

    @Test func equalErrorRatesRarelyViolateOverFortyFiveMinutesOfLooks() {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.005, referenceRate: 0.005, sequences: 200, seed: 1_000
        ) { SequentialProportionTest(alpha: Self.alpha) }
        #expect(Simulation.isCalibrated(outcomes.violations, of: 200, alpha: Self.alpha, slack: 2), "\(outcomes)")
    }

    /// The negative control: the same check on the fixed-sample test (normal
    /// approximation or Fisher's exact) that a rule looking every 10 s would use.
    @Test func aFixedSampleTestAtEveryLookFailsTheSameCheck() {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.005, referenceRate: 0.005, sequences: 100, seed: 1_000
        ) { Simulation.FixedSampleJudge(alpha: Self.alpha) }
        #expect(!Simulation.isCalibrated(outcomes.violations, of: 100, alpha: Self.alpha, slack: 2), "\(outcomes)")
        #expect(Simulation.wilsonLower(outcomes.violations, of: 100) > Self.alpha, "\(outcomes)")
    }

    @Test func aTwoPointIncreaseOverHalfAPercentIsCaughtWithinTwelveHundredCalls() {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.025, referenceRate: 0.005, sequences: 200, seed: 2_000
        ) { SequentialProportionTest(alpha: Self.alpha) }
        #expect(outcomes.violations(within: 1_200) >= 198, "\(outcomes)")
        #expect(outcomes.passes == 0, "\(outcomes)")
    }

    @Test func aHealthyCanaryPassesWithinFortyFiveMinutes() {
        let outcomes = Simulation.proportions(
            traffic: .onePercent(minutes: 45), candidateRate: 0.005, referenceRate: 0.005, sequences: 100, seed: 2_500,
            stopAtPass: true
        ) { SequentialProportionTest(alpha: Self.alpha) }
        #expect(outcomes.passes(within: 2_700) >= 95, "\(outcomes)")
        // At most α of healthy steps violate first (here 2 of 100).
        #expect(outcomes.violations <= 5, "\(outcomes)")
    }

    // MARK: - Latency: 10 % of 200 req/s, 20 minutes, 120 looks

    static let latencyTraffic = Simulation.Traffic(candidatePerLook: 20, referencePerLook: 180, looks: 120)

    /// Identical log-normal latencies, judged against the same threshold (`scale` 1, no margin).
    @Test func identicalLatenciesRarelyViolate() {
        let outcomes = Simulation.latencies(traffic: Self.latencyTraffic, slowdown: 1, sequences: 300, seed: 3_000) {
            SequentialLatencyTest(quantile: 0.99, scale: 1, alpha: Self.alpha)
        }
        #expect(Simulation.isCalibrated(outcomes.violations, of: 300, alpha: Self.alpha, slack: 2), "\(outcomes)")
    }

    /// The negative control (``TailTest``: the share above the reference's current p99), on fewer sequences: it is slow.
    @Test func aFixedSampleTailTestAtEveryLookFailsTheSameCheck() {
        let outcomes = Simulation.latencies(traffic: Self.latencyTraffic, slowdown: 1, sequences: 20, seed: 3_000) {
            Simulation.FixedSampleTailJudge(alpha: Self.alpha, quantile: 0.99)
        }
        #expect(!Simulation.isCalibrated(outcomes.violations, of: 20, alpha: Self.alpha, slack: 2), "\(outcomes)")
        #expect(Simulation.wilsonLower(outcomes.violations, of: 20) > Self.alpha, "\(outcomes)")
    }

    /// Looser than the full calibration's 99 %: the reference here has a fifth of its calls.
    @Test func latenciesHalfAgainAsSlowBreakTheP99ToleranceWithinTwentyFourHundredCalls() {
        let outcomes = Simulation.latencies(traffic: Self.latencyTraffic, slowdown: 1.5, sequences: 100, seed: 4_000) {
            SequentialLatencyTest(quantile: 0.99, scale: 1.2, alpha: Self.alpha)
        }
        #expect(outcomes.violations(within: 2_400) >= 95, "\(outcomes)")
    }
}
