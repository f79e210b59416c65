import Resilience

/// The sequential tests of one comparison (a candidate against a reference
/// since a mark), kept across looks: what `sentinel.compare{ mode =
/// "sequential" }` runs at every evaluation.
///
/// The same ``TrialCriteria`` as the fixed-sample judge, read sequentially:
/// - each rate with a tolerance T (`error_rate`, `timeout_rate`,
///   `rejection_rate`) is a ``SequentialProportionTest`` with T as both its
///   violation and its pass margin: a violation once the candidate's rate is
///   above the reference's + T at the stated confidence, a pass once it is
///   below it (a candidate exactly at the limit keeps the test undecided);
/// - each percentile with a tolerance (`p50`, `p90`, `p99`) is a
///   ``SequentialLatencyTest`` with `scale = 1 + relative` (the absolute part
///   of a latency tolerance is not used): a violation once more of the
///   candidate's calls are above `scale ×` the reference's percentile than the
///   reference's own share above it;
/// - `latency_shift` (the rank test) has no sequential form and is not judged;
/// - α of every test is `1 - confidence`: split a release's budget over its
///   steps and metrics with ``SequentialBudget`` before choosing it.
///
/// The verdict is a violation when any test says so, a pass when every test
/// passed, and continue otherwise.
public struct SequentialJudge: Sendable {
    private var rates: [(name: String, bad: @Sendable (WindowStats) -> Int, test: SequentialProportionTest)] = []
    private var latencies: [(name: String, test: SequentialLatencyTest)] = []
    public let alpha: Double

    public init(criteria: TrialCriteria, minimumCalls: Int = SequentialProportionTest.defaultMinimumCalls) {
        alpha = 1 - criteria.confidence
        func rate(_ name: String, _ tolerance: MetricTolerance?, _ bad: @escaping @Sendable (WindowStats) -> Int) {
            guard let tolerance else { return }
            rates.append(
                (
                    name, bad,
                    SequentialProportionTest(
                        alpha: alpha, violationMargin: tolerance, passMargin: tolerance, minimumCalls: minimumCalls)
                ))
        }
        rate("error_rate", criteria.errorRate) { $0.failures }
        rate("timeout_rate", criteria.timeoutRate) { $0.timeouts }
        rate("rejection_rate", criteria.rejectionRate) { $0.rejections }
        for (name, quantile, tolerance) in [("p50", 0.5, criteria.p50), ("p90", 0.9, criteria.p90), ("p99", 0.99, criteria.p99)] {
            guard let tolerance else { continue }
            latencies.append(
                (
                    name,
                    SequentialLatencyTest(
                        quantile: quantile, scale: 1 + tolerance.relative, alpha: alpha, minimumCalls: minimumCalls)
                ))
        }
    }

    /// Takes a look at everything since the mark on each side; returns the
    /// verdict and the evidence (each test's entries under its metric's name,
    /// `violated`, `looks`).
    public mutating func look(candidate: OutcomeTotals, reference: OutcomeTotals) -> (SequentialVerdict, Evidence) {
        let candidateStats = candidate.stats, referenceStats = reference.stats
        var evidence: Evidence = [:]
        var verdicts: [(String, SequentialVerdict)] = []
        for index in rates.indices {
            let bad = rates[index].bad
            let verdict = rates[index].test.look(
                candidateBad: bad(candidateStats), candidateTotal: candidateStats.calls,
                referenceBad: bad(referenceStats), referenceTotal: referenceStats.calls)
            verdicts.append((rates[index].name, verdict))
            for (key, value) in rates[index].test.evidence.entries { evidence["\(rates[index].name).\(key)"] = value }
        }
        for index in latencies.indices {
            let verdict = latencies[index].test.look(candidate: candidate.bins, reference: reference.bins)
            verdicts.append((latencies[index].name, verdict))
            for (key, value) in latencies[index].test.entries { evidence["\(latencies[index].name).\(key)"] = value }
        }
        let violated = verdicts.filter { $0.1 == .violation }.map(\.0)
        let verdict: SequentialVerdict =
            !violated.isEmpty ? .violation : verdicts.allSatisfy { $0.1 == .pass } && !verdicts.isEmpty ? .pass : .continue
        evidence["violated"] = .string(violated.joined(separator: ","))
        evidence["undecided"] = .string(verdicts.filter { $0.1 == .continue }.map(\.0).joined(separator: ","))
        evidence["alpha"] = .number(alpha)
        evidence["candidate_calls"] = .number(Double(candidateStats.calls))
        evidence["reference_calls"] = .number(Double(referenceStats.calls))
        return (verdict, evidence)
    }
}
