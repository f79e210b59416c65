import ShadowEval
import Testing

/// The release-wide false-alarm budget, split by Bonferroni.
@Suite struct SequentialBudgetTests {
    @Test func aReleaseOfSixStepsAndTwoMetricsGivesEachTestATwelfth() {
        let budget = SequentialBudget(total: 0.01, steps: 6, metrics: 2)
        #expect(budget.tests == 12)
        #expect(abs(budget.perTest - 0.01 / 12) < 1e-18)
        #expect(Double(budget.tests) * budget.perTest <= budget.total * (1 + 1e-12))
    }

    @Test func nonsenseIsClamped() {
        let budget = SequentialBudget(total: 3, steps: 0, metrics: -2)
        #expect(budget.total == 0.5 && budget.steps == 1 && budget.metrics == 1)
        #expect(SequentialBudget(total: .nan, steps: 1, metrics: 1).total == 0.01)
        #expect(SequentialBudget(total: 0, steps: 1, metrics: 1).perTest > 0)
    }

    @Test func theSplitFeedsTheTests() {
        let budget = SequentialBudget(total: 0.01, steps: 6, metrics: 2)
        #expect(SequentialProportionTest(alpha: budget.perTest).alpha == budget.perTest)
        #expect(SequentialLatencyTest(alpha: budget.perTest).shares.alpha == budget.perTest)
    }
}
