import Foundation
import ShadowEval
import Testing

/// The sequential two-sample proportion test: edge cases, margins, monotone
/// behaviour and its evidence (calibration by simulation is in
/// ``SequentialCalibrationTests``).
@Suite struct SequentialProportionTestTests {
    /// Every entry is a finite number or a string.
    static func allFinite(_ evidence: SequentialEvidence) -> Bool {
        evidence.entries.values.allSatisfy { $0.number?.isFinite ?? true }
    }

    @Test func noCallsSayContinueWithFiniteEvidence() {
        var test = SequentialProportionTest()
        #expect(test.look(candidateBad: 0, candidateTotal: 0, referenceBad: 0, referenceTotal: 0) == .continue)
        let evidence = test.evidence
        #expect(evidence.looks == 1)
        #expect(evidence.candidateRate == 0 && evidence.referenceRate == 0 && evidence.difference == 0)
        #expect(evidence.lowerBound == -1 && evidence.upperBound == 1)
        #expect(evidence.violationPValue == 1 && evidence.passPValue == 1)
        #expect(Self.allFinite(evidence))
    }

    @Test func noBadOutcomesOnEitherSideNeverViolateAndPassOnceThereAreEnoughCalls() throws {
        var test = SequentialProportionTest()
        var firstPass: Int?
        for look in 1...200 {
            let verdict = test.look(candidateBad: 0, candidateTotal: 10 * look, referenceBad: 0, referenceTotal: 990 * look)
            #expect(verdict != .violation)
            if verdict == .pass && firstPass == nil { firstPass = 10 * look }
        }
        // Not before the minimum; soon after it (0 of 510 calls bounds the rate below 1 point).
        let passedAt = try #require(firstPass)
        #expect(passedAt >= SequentialProportionTest.defaultMinimumCalls && passedAt <= 600, "\(passedAt)")
        #expect(Self.allFinite(test.evidence))
        #expect(test.evidence.candidateBounds.lowerBound == 0)
    }

    @Test func noPassBeforeTheMinimumCallsHoweverCleanTheData() {
        var test = SequentialProportionTest(minimumCalls: 2_000)
        for look in 1...199 {
            #expect(test.look(candidateBad: 0, candidateTotal: 10 * look, referenceBad: 0, referenceTotal: 100_000 * look) == .continue)
        }
        #expect(test.evidence.passPValue == 1)
        #expect(test.look(candidateBad: 0, candidateTotal: 2_000, referenceBad: 0, referenceTotal: 20_000_000) == .pass)
    }

    @Test func aReferenceWithFewCallsCannotLetTheCandidatePass() {
        var test = SequentialProportionTest()
        test.look(candidateBad: 0, candidateTotal: 100_000, referenceBad: 0, referenceTotal: 499)
        #expect(test.verdict == .continue)
    }

    @Test func threeFailuresInThreeCallsAreAlreadyAViolation() {
        var few = SequentialProportionTest()
        #expect(few.look(candidateBad: 3, candidateTotal: 3, referenceBad: 50, referenceTotal: 10_000) == .violation)
        var one = SequentialProportionTest()
        #expect(one.look(candidateBad: 1, candidateTotal: 3, referenceBad: 50, referenceTotal: 10_000) == .continue)
    }

    @Test func equalRatesAtTenMillionCallsPassWithTightFiniteBounds() {
        var test = SequentialProportionTest(alpha: 0.001)
        #expect(test.look(candidateBad: 50_000, candidateTotal: 10_000_000, referenceBad: 50_000, referenceTotal: 10_000_000) == .pass)
        let evidence = test.evidence
        #expect(evidence.difference == 0)
        #expect(evidence.lowerBound < 0 && evidence.upperBound > 0)
        #expect(evidence.upperBound - evidence.lowerBound < 0.0005)
        #expect(evidence.violationPValue == 1)
        #expect(Self.allFinite(evidence))
    }

    @Test func aHalfPointIncreaseAtAMillionCallsViolatesUnlessTheMarginAllowsIt() {
        func verdict(_ margin: MetricTolerance) -> SequentialVerdict {
            var test = SequentialProportionTest(alpha: 0.001, violationMargin: margin)
            return test.look(candidateBad: 10_000, candidateTotal: 1_000_000, referenceBad: 5_000, referenceTotal: 1_000_000)
        }
        #expect(verdict(MetricTolerance(absolute: 0, relative: 0)) == .violation)
        #expect(verdict(MetricTolerance(absolute: 0.004, relative: 0)) == .violation)
        #expect(verdict(MetricTolerance(absolute: 0.006, relative: 0)) == .pass)
        // Relative: 1 % against 0.5 % is a 100 % increase.
        #expect(verdict(MetricTolerance(absolute: 0, relative: 0.6)) == .violation)
        #expect(verdict(MetricTolerance(absolute: 0, relative: 1.2)) != .violation)
    }

    @Test func thePassMarginIsANonInferiorityMargin() {
        func verdict(_ margin: MetricTolerance) -> SequentialVerdict {
            var test = SequentialProportionTest(alpha: 0.001, passMargin: margin)
            return test.look(candidateBad: 700, candidateTotal: 100_000, referenceBad: 5_000, referenceTotal: 1_000_000)
        }
        // 0.7 % against 0.5 %: worse, but within 1 point.
        #expect(verdict(MetricTolerance(absolute: 0.01, relative: 0)) == .violation)
        var lenient = SequentialProportionTest(
            alpha: 0.001, violationMargin: MetricTolerance(absolute: 0.005, relative: 0),
            passMargin: MetricTolerance(absolute: 0.01, relative: 0))
        #expect(lenient.look(candidateBad: 700, candidateTotal: 100_000, referenceBad: 5_000, referenceTotal: 1_000_000) == .pass)
        var strict = SequentialProportionTest(
            alpha: 0.001, violationMargin: MetricTolerance(absolute: 0.005, relative: 0),
            passMargin: MetricTolerance(absolute: 0.001, relative: 0))
        #expect(strict.look(candidateBad: 700, candidateTotal: 100_000, referenceBad: 5_000, referenceTotal: 1_000_000) == .continue)
    }

    @Test func aViolationIsFinal() {
        var test = SequentialProportionTest()
        #expect(test.look(candidateBad: 20, candidateTotal: 500, referenceBad: 250, referenceTotal: 50_000) == .violation)
        let pValue = test.violationPValue
        // A flood of good calls afterwards does not take it back.
        #expect(test.look(candidateBad: 20, candidateTotal: 50_000, referenceBad: 2_500, referenceTotal: 500_000) == .violation)
        #expect(test.violationPValue == pValue)
    }

    @Test func moreBadOutcomesNeverWeakenTheEvidence() {
        var previous = (pValue: 1.0, lower: -1.0)
        for bad in 0...60 {
            var test = SequentialProportionTest()
            test.look(candidateBad: bad, candidateTotal: 2_000, referenceBad: 100, referenceTotal: 20_000)
            let evidence = test.evidence
            #expect(evidence.violationPValue <= previous.pValue, "\(bad)")
            #expect(evidence.lowerBound >= previous.lower, "\(bad)")
            previous = (evidence.violationPValue, evidence.lowerBound)
        }
        #expect(previous.pValue < 1e-6)
    }

    @Test func aLargerAlphaDecidesNoLater() {
        func firstViolation(alpha: Double) -> Int? {
            var test = SequentialProportionTest(alpha: alpha)
            for look in 1...300 {
                let verdict = test.look(
                    candidateBad: look / 4, candidateTotal: 10 * look, referenceBad: 5 * look, referenceTotal: 1_000 * look)
                if verdict == .violation { return look }
            }
            return nil
        }
        let looks = [1e-6, 1e-4, 0.001, 0.01, 0.05, 0.2].map { firstViolation(alpha: $0) ?? .max }
        #expect(looks == looks.sorted(by: >), "\(looks)")
        #expect(looks.last! < looks.first!)
    }

    @Test func theVerdictIsWhereTheEvidenceReachesOneOverAlpha() {
        for candidateBad in stride(from: 0, through: 80, by: 4) {
            for referenceBad in stride(from: 0, through: 400, by: 40) {
                var test = SequentialProportionTest(
                    violationMargin: MetricTolerance(absolute: 0.002, relative: 0),
                    passMargin: MetricTolerance(absolute: 0.01, relative: 0))
                let verdict = test.look(
                    candidateBad: candidateBad, candidateTotal: 2_000, referenceBad: referenceBad, referenceTotal: 40_000)
                let threshold = log(1 / test.alpha)
                let worse = test.violationEvidence.logEvidence, within = test.passEvidence.logEvidence
                #expect(abs(test.violationPValue - min(1, exp(-worse))) < 1e-12)
                #expect(abs(test.passPValue - min(1, exp(-within))) < 1e-12)
                #expect((verdict == .violation) == (worse >= threshold), "\(candidateBad), \(referenceBad)")
                if verdict != .violation {
                    #expect((verdict == .pass) == (within >= threshold), "\(candidateBad), \(referenceBad)")
                }
                // The rates' bounds agree where the data are clear.
                if test.evidence.lowerBound > 0.002 { #expect(verdict == .violation, "\(candidateBad), \(referenceBad)") }
                if test.evidence.upperBound < 0.01 && verdict != .violation {
                    #expect(verdict == .pass, "\(candidateBad), \(referenceBad)")
                }
            }
        }
    }

    @Test func impossibleLooksAreIgnored() {
        var test = SequentialProportionTest()
        test.look(candidateBad: 2, candidateTotal: 100, referenceBad: 10, referenceTotal: 1_000)
        let before = test
        test.look(candidateBad: 5, candidateTotal: 4, referenceBad: 10, referenceTotal: 1_000)  // bad above total
        test.look(candidateBad: -1, candidateTotal: 100, referenceBad: 10, referenceTotal: 1_000)  // negative
        test.look(candidateBad: 2, candidateTotal: 90, referenceBad: 10, referenceTotal: 1_000)  // fewer calls than before
        test.look(candidateBad: 1, candidateTotal: 100, referenceBad: 10, referenceTotal: 1_000)  // fewer bad than before
        #expect(test.ignoredLooks == 4)
        #expect(test.looks == before.looks)
        #expect(test.evidence.candidateCalls == 100 && test.evidence.candidateBad == 2)
        #expect(test.violationPValue == before.violationPValue)
    }

    @Test func theEvidenceNamesEverything() {
        var test = SequentialProportionTest(alpha: 0.01)
        test.look(candidateBad: 9, candidateTotal: 1_000, referenceBad: 500, referenceTotal: 99_000)
        let evidence = test.evidence
        #expect(evidence.alpha == 0.01)
        #expect(evidence.looks == 1)
        #expect(evidence.candidateCalls == 1_000 && evidence.candidateBad == 9)
        #expect(evidence.referenceCalls == 99_000 && evidence.referenceBad == 500)
        #expect(abs(evidence.difference - (0.009 - 500.0 / 99_000)) < 1e-15)
        #expect(evidence.lowerBound < evidence.difference && evidence.difference < evidence.upperBound)
        #expect(evidence.candidateBounds.contains(0.009))
        #expect(evidence.referenceBounds.contains(500.0 / 99_000))
        #expect(evidence.entries["verdict"] == .string(evidence.verdict.rawValue))
        #expect(evidence.entries["difference_lower"] == .number(evidence.lowerBound))
        #expect(evidence.entries.count == 20)
        #expect(Self.allFinite(evidence))
    }

    @Test(arguments: [-1.0, 0, 1e-20, .nan, 0.9])
    func alphaIsClampedToAUsableRange(_ alpha: Double) {
        let test = SequentialProportionTest(alpha: alpha)
        #expect(test.alpha >= 1e-12 && test.alpha <= 0.5)
    }
}
