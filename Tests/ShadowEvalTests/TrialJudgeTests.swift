import Resilience
import ShadowEval
import Testing

@Suite struct TrialJudgeTests {
    let judge = TrialJudge(criteria: TrialCriteria(), minSamples: 100)

    @Test func criticalValueMatchesTheNormalQuantile() {
        #expect(abs(ProportionTest.criticalValue(confidence: 0.95) - 1.6449) < 0.001)
        #expect(abs(ProportionTest.criticalValue(confidence: 0.99) - 2.3263) < 0.001)
    }

    @Test func aBetterShadowPasses() {
        guard case .pass = judge.judge(candidate: betterShadow, reference: liveStats) else {
            Issue.record("expected a pass")
            return
        }
    }

    @Test func aWorseShadowIsAViolationWithEvidence() {
        guard case .violation(let metrics, let evidence) = judge.judge(candidate: worseShadow, reference: liveStats) else {
            Issue.record("expected a violation")
            return
        }
        #expect(metrics == ["error_rate"])
        #expect(evidence["error_rate.candidate"] == .number(0.05))
        #expect((evidence["error_rate.z"]?.number ?? 0) > 1.645)
    }

    @Test func aDifferenceWithinNoiseIsNotAViolationEvenWithZeroTolerance() {
        let strict = TrialJudge(
            criteria: TrialCriteria(errorRate: MetricTolerance(absolute: 0, relative: 0)), minSamples: 100)
        // 14/1000 against 10/1000: beyond a zero tolerance, but z ≈ 0.82.
        let slightly = stats(calls: 1000, failures: 14)
        let reference = stats(calls: 1000, failures: 10)
        guard case .pass = strict.judge(candidate: slightly, reference: reference) else {
            Issue.record("expected a pass: the difference is not significant")
            return
        }
        // 40/1000 against 10/1000 is.
        guard case .violation = strict.judge(candidate: stats(calls: 1000, failures: 40), reference: reference) else {
            Issue.record("expected a violation")
            return
        }
    }

    @Test func aSlowerP99IsAViolation() {
        let slow = stats(calls: 1000, failures: 2, p99: 0.200)
        guard case .violation(let metrics, _) = judge.judge(candidate: slow, reference: liveStats) else {
            Issue.record("expected a violation")
            return
        }
        #expect(metrics == ["p99"])
    }

    @Test func unknownOutcomesAreNotCountedAsGood() {
        // No known failures at all, but 30 % of the shadow's calls cannot be known.
        let looser = stats(calls: 700, failures: 0, unknown: 300)
        guard case .violation(let metrics, let evidence) = judge.judge(candidate: looser, reference: liveStats) else {
            Issue.record("unknown outcomes were counted as good")
            return
        }
        #expect(metrics.contains("error_rate"))
        #expect(metrics.contains("p99"))
        #expect(evidence["error_rate.candidate"] == .number(0.3))
    }

    @Test func unknownOutcomesDoNotCountTowardsMinSamples() {
        let mostlyUnknown = stats(calls: 50, failures: 0, unknown: 900)
        guard case .inconclusive = judge.judge(candidate: mostlyUnknown, reference: liveStats) else {
            Issue.record("expected inconclusive: only 50 judged calls")
            return
        }
    }

    @Test func noTrafficIsInconclusiveEvenWithZeroMinSamples() {
        let lenient = TrialJudge(criteria: TrialCriteria(), minSamples: 0)
        guard case .inconclusive = lenient.judge(candidate: .zero, reference: .zero) else {
            Issue.record("expected inconclusive: a window with no calls proves nothing")
            return
        }
    }

    @Test func tooFewSamplesOnEitherSideIsInconclusive() {
        guard case .inconclusive = judge.judge(candidate: betterShadow, reference: quietStats),
            case .inconclusive = judge.judge(candidate: quietStats, reference: liveStats)
        else {
            Issue.record("expected inconclusive")
            return
        }
    }
}
