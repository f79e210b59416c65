import Resilience
import ShadowEval
import Testing

/// Seeded simulated runs: binomial error counts per 10 s evaluation, 1000 calls
/// on each side, live error rate 0.5 %. Deterministic (fixed seed).
@Suite struct SimulatedRunTests {
    struct Outcomes: Equatable {
        var promoted = 0
        var aborted = 0
        var undecided = 0
    }

    func binomial(_ n: Int, _ p: Double, _ rng: inout Xoshiro256StarStar) -> Int {
        var count = 0
        for _ in 0..<n where rng.nextUnit() < p { count += 1 }
        return count
    }

    /// Runs `trials` trials of up to 20 evaluations each, shadow error rate `shadowRate`.
    func simulate(shadowRate: Double, criteria: TrialCriteria = TrialCriteria(), trials: Int = 100) throws -> Outcomes {
        var rng = Xoshiro256StarStar(seed: 42)
        var outcomes = Outcomes()
        for _ in 0..<trials {
            var config = configuration(watch: 0)
            config.criteria = criteria
            var trial = try startedTrial(config)
            for t in 1...20 {
                let live = stats(calls: 1000, failures: binomial(1000, 0.005, &rng))
                let shadow = stats(calls: 1000, failures: binomial(1000, shadowRate, &rng))
                _ = trial.evaluate(now: seconds(Int64(t) * 10), live: live, shadow: shadow)
                if trial.status.isFinal { break }
            }
            switch trial.status {
            case .promoted: outcomes.promoted += 1
            case .aborted: outcomes.aborted += 1
            default: outcomes.undecided += 1
            }
        }
        return outcomes
    }

    @Test func anEqualShadowPromotesAndAClearlyWorseOneNeverDoes() throws {
        let equal = try simulate(shadowRate: 0.005)
        #expect(equal.promoted >= 95)
        #expect(equal.aborted == 0)
        let worse = try simulate(shadowRate: 0.02)
        #expect(worse.promoted == 0)
        #expect(worse.aborted == 100)
    }

    @Test func withoutToleranceOnlyTheTestDecides() throws {
        let strict = TrialCriteria(errorRate: MetricTolerance(absolute: 0, relative: 0))
        // About 5 % of evaluations of an equal shadow are false violations;
        // three in one trial are rare, so most still promote.
        let equal = try simulate(shadowRate: 0.005, criteria: strict)
        #expect(equal.promoted >= 80)
        // A shadow twice as bad is caught far more often than with the default tolerance.
        let doubled = try simulate(shadowRate: 0.01, criteria: strict)
        let doubledDefault = try simulate(shadowRate: 0.01)
        #expect(doubled.promoted < doubledDefault.promoted)
    }
}
