import ShadowEval
import Testing

/// The two-proportion test: normal approximation with enough counts, Fisher's exact test below.
@Suite struct ProportionTestTests {
    /// Reference p-values computed exactly (rational arithmetic) from the hypergeometric distribution.
    static let exactCases: [(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int, pValue: Double)] = [
        (3, 4, 1, 4, 0.242857142857),  // the lady tasting tea
        (4, 310, 50, 18_000, 0.013123196044),
        (1, 310, 50, 18_000, 0.581909399614),
        (6, 1_000, 3, 1_000, 0.253412704787),
        (0, 10, 3, 10, 1.0),
        (5, 5, 0, 5, 0.003968253968),
    ]

    @Test(arguments: exactCases.indices)
    func fewCountsGetFishersExactPValue(_ index: Int) {
        let c = Self.exactCases[index]
        let test = ProportionTest(
            candidateBad: c.candidateBad, candidateTotal: c.candidateTotal,
            referenceBad: c.referenceBad, referenceTotal: c.referenceTotal)
        #expect(test.exact)
        #expect(abs(test.pValue - c.pValue) < 1e-9, "\(c): \(test.pValue)")
    }

    /// 4 errors in 310 calls against 0.28 % of 18,000: the normal approximation
    /// says p = 0.0007 (significant at 99.9 %); the chance is really 1.3 %.
    @Test func theNormalApproximationIsNotUsedWhereItCallsNoiseSignificant() {
        let test = ProportionTest(candidateBad: 4, candidateTotal: 310, referenceBad: 50, referenceTotal: 18_000)
        #expect(ProportionTest.upperTail(test.z) < 0.001)
        #expect(!test.isSignificant(confidence: 0.99))
    }

    @Test func enoughCountsUseTheNormalApproximation() {
        let test = ProportionTest(candidateBad: 150, candidateTotal: 10_000, referenceBad: 100, referenceTotal: 10_000)
        #expect(!test.exact)
        #expect(abs(test.pValue - ProportionTest.upperTail(test.z)) < 1e-15)
        #expect(test.isSignificant(confidence: 0.99))
    }

    @Test func nothingBadOrNothingAtAllIsNeverSignificant() {
        for test in [
            ProportionTest(candidateBad: 0, candidateTotal: 100, referenceBad: 0, referenceTotal: 100),
            ProportionTest(candidateBad: 0, candidateTotal: 0, referenceBad: 3, referenceTotal: 100),
            ProportionTest(candidateBad: 100, candidateTotal: 100, referenceBad: 100, referenceTotal: 100),
        ] {
            #expect(!test.isSignificant(confidence: 0.5 + 1e-9))
        }
    }

    /// Large tables with a small expected cell stay cheap and exact (sums stop when terms vanish).
    @Test func aRareTailOnMillionsOfCallsIsExactAndFinite() {
        let test = ProportionTest(candidateBad: 25, candidateTotal: 1_000, referenceBad: 5_000, referenceTotal: 1_000_000)
        #expect(test.exact)
        #expect(abs(test.pValue - 1.3742250392510123e-10) < 1e-14, "\(test.pValue)")
    }
}
