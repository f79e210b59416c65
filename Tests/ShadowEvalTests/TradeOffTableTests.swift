import Resilience
import ShadowEval
import Testing

/// The figures of docs/shadow.md's trade-off table: 200 seeded trials per row
/// (live 0.5 % errors, 1000 calls per side per 10 s evaluation, a 60 s window,
/// at most 20 evaluations, K = 3, confidence 0.95). Deterministic: if the
/// judge changes, this test says so, and the table must be updated with it.
@Suite struct TradeOffTableTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var shadowRate: Double
        var strict: Bool
        var promoted: Int
        var aborted: Int
        var testDescription: String { "shadow \(shadowRate) \(strict ? "strict" : "default")" }
    }

    static let table: [Row] = [
        Row(shadowRate: 0.005, strict: false, promoted: 200, aborted: 0),
        Row(shadowRate: 0.01, strict: false, promoted: 190, aborted: 10),
        Row(shadowRate: 0.015, strict: false, promoted: 19, aborted: 181),
        Row(shadowRate: 0.02, strict: false, promoted: 0, aborted: 200),
        Row(shadowRate: 0.03, strict: false, promoted: 0, aborted: 200),
        Row(shadowRate: 0.005, strict: true, promoted: 200, aborted: 0),
        Row(shadowRate: 0.01, strict: true, promoted: 71, aborted: 129),
        Row(shadowRate: 0.015, strict: true, promoted: 1, aborted: 199),
    ]

    @Test(arguments: table)
    func theDocumentedFigures(_ row: Row) throws {
        let criteria = row.strict ? TrialCriteria(errorRate: MetricTolerance(absolute: 0, relative: 0)) : TrialCriteria()
        let outcome = try SimulatedRunTests().simulate(shadowRate: row.shadowRate, criteria: criteria, trials: 200)
        #expect(outcome.promoted == row.promoted)
        #expect(outcome.aborted == row.aborted)
    }
}
