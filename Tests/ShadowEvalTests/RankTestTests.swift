import Resilience
import ShadowEval
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The rank and tail tests on latency histograms, and the judge using them.
@Suite struct RankTestTests {
    /// A seeded histogram of `count` log-normal latencies (median `p50`, 99th percentile `p99`).
    func histogram(count: Int, p50: Double, p99: Double, seed: UInt64) -> [Double] {
        let windows = OutcomeWindows()
        var random = Xoshiro256StarStar(seed: seed)
        let sigma = (p99 / p50).logarithm / 2.326
        for _ in 0..<count {
            let u1 = 1 - random.nextUnit(), u2 = random.nextUnit()
            let z = (-2 * u1.logarithm).squareRoot() * (2 * Double.pi * u2).cosine
            windows.record(.success, latency: Int64(p50 * (sigma * z).exponential * 1e9), now: 1_000_000_000)
        }
        return windows.latencyHistogram(.tenSeconds, now: 1_000_000_000)
    }

    @Test func alikeDistributionsAreNotSignificant() {
        let a = histogram(count: 2000, p50: 0.04, p99: 0.2, seed: 1)
        let b = histogram(count: 2000, p50: 0.04, p99: 0.2, seed: 2)
        let rank = RankTest(candidate: a, reference: b)
        #expect(abs(rank.superiority - 0.5) < 0.03)
        #expect(!rank.isSignificant(confidence: 0.95))
        #expect(!TailTest(candidate: a, reference: b, quantile: 0.99).test.isSignificant(confidence: 0.95))
    }

    @Test func aSlowerDistributionIsFound() {
        let slow = histogram(count: 2000, p50: 0.05, p99: 0.26, seed: 1)
        let base = histogram(count: 2000, p50: 0.04, p99: 0.2, seed: 2)
        let rank = RankTest(candidate: slow, reference: base)
        #expect(rank.superiority > 0.55 && rank.isSignificant(confidence: 0.99))
        #expect(!RankTest(candidate: base, reference: slow).isSignificant(confidence: 0.95), "one-sided: faster is no finding")
    }

    @Test func aHeavierTailIsFoundWhereTheRankTestBarelyMoves() {
        // 3 % of calls become 1 s slow; the rest unchanged.
        let windows = OutcomeWindows()
        var random = Xoshiro256StarStar(seed: 5)
        for _ in 0..<2000 {
            let latency = random.nextUnit() < 0.03 ? 1.0 : 0.02 + 0.04 * random.nextUnit()
            windows.record(.success, latency: Int64(latency * 1e9), now: 1_000_000_000)
        }
        let tailed = windows.latencyHistogram(.tenSeconds, now: 1_000_000_000)
        let reference = OutcomeWindows()
        for _ in 0..<2000 { reference.record(.success, latency: Int64((0.02 + 0.04 * random.nextUnit()) * 1e9), now: 1_000_000_000) }
        let base = reference.latencyHistogram(.tenSeconds, now: 1_000_000_000)
        #expect(TailTest(candidate: tailed, reference: base, quantile: 0.99).test.isSignificant(confidence: 0.99))
        #expect(RankTest(candidate: tailed, reference: base).superiority < 0.55)
    }

    @Test func emptyHistogramsProveNothing() {
        let rank = RankTest(candidate: [], reference: [1, 2, 3])
        #expect(rank.z == 0 && rank.pValue == 0.5 && !rank.isSignificant(confidence: 0.95))
    }

    @Test func withHistogramsANoisyP99IsNotAViolation() {
        // Same distribution, 500 calls a side: the sampled p99s often differ by more than the default 10 % tolerance.
        var seed: UInt64 = 1
        let judge = TrialJudge()
        var toleranceOnly = 0, withTests = 0
        for _ in 0..<50 {
            let a = histogram(count: 500, p50: 0.04, p99: 0.2, seed: seed)
            let b = histogram(count: 500, p50: 0.04, p99: 0.2, seed: seed + 1)
            seed += 2
            let statsA = windowStats(a), statsB = windowStats(b)
            if case .violation = judge.judge(candidate: statsA, reference: statsB) { toleranceOnly += 1 }
            if case .violation = judge.judge(candidate: statsA, reference: statsB, candidateLatencies: a, referenceLatencies: b) {
                withTests += 1
            }
        }
        #expect(toleranceOnly >= 5, "the sampled p99 alone is noisy: \(toleranceOnly) of 50")
        #expect(withTests <= 3, "the tail and rank tests keep the false violations near 5 %: \(withTests) of 50")
    }

    @Test func withHistogramsASlowerCandidateIsStillAViolation() {
        let slow = histogram(count: 2000, p50: 0.04, p99: 0.26, seed: 1)
        let base = histogram(count: 2000, p50: 0.04, p99: 0.2, seed: 2)
        let verdict = TrialJudge().judge(
            candidate: windowStats(slow), reference: windowStats(base),
            candidateLatencies: slow, referenceLatencies: base)
        guard case .violation(let metrics, let evidence) = verdict else { Issue.record("expected a violation: \(verdict)"); return }
        #expect(metrics.contains("p99"))
        #expect(evidence["p99.tail_p_value"] != nil && evidence["latency_shift.superiority"] != nil)
    }

    /// Stats with the histogram's percentiles, every call a success.
    func windowStats(_ histogram: [Double]) -> WindowStats {
        let windows = OutcomeWindows()
        for (index, count) in histogram.enumerated() where count > 0 {
            for _ in 0..<Int(count) {
                windows.record(.success, latency: Int64(LatencyBuckets.representative(of: index)), now: 1_000_000_000)
            }
        }
        return windows.stats(.tenSeconds, now: 1_000_000_000)
    }
}

extension Double {
    var logarithm: Double { log(self) }
    var exponential: Double { exp(self) }
    var cosine: Double { cos(self) }
}
