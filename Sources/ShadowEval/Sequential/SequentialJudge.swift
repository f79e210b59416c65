import Resilience

/// The sequential tests of one comparison (a candidate against a reference
/// since a mark), kept across looks: what `sentinel.compare{ mode =
/// "sequential" }` runs at every evaluation, and what a shadow trial with
/// ``TrialJudgeMode/sequential`` runs on everything since it began.
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
/// - α of every test is `1 - confidence` unless the caller gives one: split a
///   release's budget over its steps and metrics with ``SequentialBudget``.
///
/// Unknown outcomes (shadow calls nobody can know the outcome of) never count
/// as good, as in ``TrialJudge``: they are bad outcomes for every rate, and
/// slower than any threshold for the candidate's latency tests.
///
/// The verdict is a violation when any test says so, a pass when every test
/// passed, and continue otherwise.
public struct SequentialJudge: Sendable, Hashable {
    /// A rate's name and its test.
    private struct RateTest: Sendable, Hashable {
        let name: String
        var test: SequentialProportionTest

        /// The bad outcomes of this rate, unknown outcomes included.
        func bad(_ stats: WindowStats) -> Int {
            let counted =
                switch name {
                case "error_rate": stats.failures
                case "timeout_rate": stats.timeouts
                default: stats.rejections
                }
            return counted + stats.unknown
        }
    }

    /// A percentile's name and its test.
    private struct LatencyTest: Sendable, Hashable {
        let name: String
        var test: SequentialLatencyTest
    }

    private var rates: [RateTest] = []
    private var latencies: [LatencyTest] = []
    /// The false-alarm budget of each test.
    public let alpha: Double

    /// Makes the tests of `criteria`; `alpha` (each test's) defaults to `1 - confidence`.
    public init(criteria: TrialCriteria, minimumCalls: Int = SequentialProportionTest.defaultMinimumCalls, alpha: Double? = nil) {
        self.alpha = alpha ?? 1 - criteria.confidence
        for (name, tolerance) in [
            ("error_rate", criteria.errorRate), ("timeout_rate", criteria.timeoutRate), ("rejection_rate", criteria.rejectionRate),
        ] {
            guard let tolerance else { continue }
            rates.append(
                RateTest(
                    name: name,
                    test: SequentialProportionTest(
                        alpha: self.alpha, violationMargin: tolerance, passMargin: tolerance, minimumCalls: minimumCalls)))
        }
        for (name, quantile, tolerance) in [("p50", 0.5, criteria.p50), ("p90", 0.9, criteria.p90), ("p99", 0.99, criteria.p99)] {
            guard let tolerance else { continue }
            latencies.append(
                LatencyTest(
                    name: name,
                    test: SequentialLatencyTest(
                        quantile: quantile, scale: 1 + tolerance.relative, alpha: self.alpha, minimumCalls: minimumCalls)))
        }
    }

    /// The metrics `criteria` has judged sequentially (what a budget splits over).
    public static func judgedMetrics(_ criteria: TrialCriteria) -> Int {
        [criteria.errorRate, criteria.timeoutRate, criteria.rejectionRate, criteria.p50, criteria.p90, criteria.p99]
            .filter { $0 != nil }.count
    }

    /// Why `criteria` cannot be judged sequentially, or nil when they can: a
    /// latency tolerance must be relative (the test compares with a multiple
    /// of the reference's percentile), and something must be judged.
    /// `setting` names where the sequential judge was asked for (`in mode "sequential"`).
    public static func problem(with criteria: TrialCriteria, setting: String) -> String? {
        for (name, tolerance) in [("p50", criteria.p50), ("p90", criteria.p90), ("p99", criteria.p99)] {
            if let tolerance, tolerance.relative <= 0 {
                return "criteria.\(name): \(setting) a latency tolerance is relative (for example relative = 0.2)"
            }
        }
        if judgedMetrics(criteria) == 0 {
            return "criteria: nothing to judge \(setting) (latency_shift has no sequential form)"
        }
        return nil
    }

    /// Takes a look at everything since the mark on each side; returns the
    /// verdict and the evidence (each test's entries under its metric's name,
    /// `violated`, `looks`).
    public mutating func look(candidate: OutcomeTotals, reference: OutcomeTotals) -> (SequentialVerdict, Evidence) {
        let candidateStats = candidate.stats, referenceStats = reference.stats
        var evidence: Evidence = [:]
        var verdicts: [(String, SequentialVerdict)] = []
        for index in rates.indices {
            let rate = rates[index]
            let verdict = rates[index].test.look(
                candidateBad: rate.bad(candidateStats), candidateTotal: candidateStats.calls + candidateStats.unknown,
                referenceBad: rate.bad(referenceStats), referenceTotal: referenceStats.calls + referenceStats.unknown)
            verdicts.append((rate.name, verdict))
            for (key, value) in rates[index].test.evidence.entries { evidence["\(rate.name).\(key)"] = value }
        }
        // The candidate's unknown calls might all have been slow: they sit in the highest bucket.
        var candidateBins = candidate.bins
        candidateBins[candidateBins.count - 1] += UInt64(candidateStats.unknown)
        for index in latencies.indices {
            let verdict = latencies[index].test.look(candidate: candidateBins, reference: reference.bins)
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
