import Resilience

/// Compares a candidate window with a reference window under ``TrialCriteria``.
///
/// Unknown outcomes (shadow calls whose outcome cannot be known, counted in
/// ``WindowStats/unknown`` and not in `calls`) never count as good: for every
/// rate they count as bad outcomes (`(bad + unknown) / (calls + unknown)`),
/// and a latency percentile `q` is violated outright when more than `1 - q` of
/// the candidate's calls are unknown (the unknown calls could all be slower).
/// They do not count towards ``minSamples`` either: only judged calls do.
public struct TrialJudge: Sendable, Hashable {
    /// What is compared and how much worse is tolerated.
    public var criteria: TrialCriteria
    /// Judged calls needed in both windows for a verdict other than inconclusive.
    public var minSamples: Int

    /// Makes a judge.
    public init(criteria: TrialCriteria = TrialCriteria(), minSamples: Int = 100) {
        self.criteria = criteria
        self.minSamples = minSamples
    }

    /// Judges `candidate` against `reference`; with both windows' latency
    /// histograms, latency is judged by the tail and rank tests too (see ``TrialCriteria``).
    public func judge(
        candidate: WindowStats, reference: WindowStats,
        candidateLatencies: [Double]? = nil, referenceLatencies: [Double]? = nil
    ) -> TrialVerdict {
        let histograms = candidateLatencies.flatMap { c in referenceLatencies.map { (c, $0) } }
        var evidence: Evidence = [
            "candidate_calls": .number(Double(candidate.calls)),
            "candidate_unknown": .number(Double(candidate.unknown)),
            "reference_calls": .number(Double(reference.calls)),
            "min_samples": .number(Double(minSamples)),
            "confidence": .number(criteria.confidence),
        ]
        // At least one judged call on each side, whatever minSamples says: no rate of nothing.
        let needed = Swift.max(1, minSamples)
        if candidate.calls < needed || reference.calls < needed {
            let reason = "too few samples: candidate \(candidate.calls), reference \(reference.calls), need \(needed)"
            evidence["reason"] = .string(reason)
            return .inconclusive(reason, evidence)
        }
        var violated: [String] = []
        let rates: [(String, MetricTolerance?, (WindowStats) -> Int)] = [
            ("error_rate", criteria.errorRate, { $0.failures }),
            ("rejection_rate", criteria.rejectionRate, { $0.rejections }),
            ("timeout_rate", criteria.timeoutRate, { $0.timeouts }),
        ]
        for (name, tolerance, bad) in rates {
            guard let tolerance else { continue }
            let candidateBad = bad(candidate) + candidate.unknown
            let candidateTotal = candidate.calls + candidate.unknown
            let referenceBad = bad(reference) + reference.unknown
            let referenceTotal = reference.calls + reference.unknown
            let candidateRate = Double(candidateBad) / Double(candidateTotal)
            let referenceRate = Double(referenceBad) / Double(referenceTotal)
            let test = ProportionTest(
                candidateBad: candidateBad, candidateTotal: candidateTotal,
                referenceBad: referenceBad, referenceTotal: referenceTotal)
            let exceeded = tolerance.isExceeded(candidate: candidateRate, reference: referenceRate)
            let significant = test.isSignificant(confidence: criteria.confidence)
            evidence["\(name).candidate"] = .number(candidateRate)
            evidence["\(name).reference"] = .number(referenceRate)
            evidence["\(name).limit"] = .number(tolerance.limit(reference: referenceRate))
            evidence["\(name).z"] = .number(test.z)
            evidence["\(name).p_value"] = .number(test.pValue)
            if exceeded && significant { violated.append(name) }
        }
        let unknownFraction = Double(candidate.unknown) / Double(candidate.calls + candidate.unknown)
        let percentiles: [(String, Double, MetricTolerance?, KeyPath<WindowStats, Double>)] = [
            ("p50", 0.50, criteria.p50, \.p50),
            ("p90", 0.90, criteria.p90, \.p90),
            ("p99", 0.99, criteria.p99, \.p99),
        ]
        for (name, quantile, tolerance, path) in percentiles {
            guard let tolerance else { continue }
            let candidateValue = candidate[keyPath: path], referenceValue = reference[keyPath: path]
            evidence["\(name).candidate"] = .number(candidateValue)
            evidence["\(name).reference"] = .number(referenceValue)
            evidence["\(name).limit"] = .number(tolerance.limit(reference: referenceValue))
            if unknownFraction > 1 - quantile {
                evidence["\(name).unknown_fraction"] = .number(unknownFraction)
                violated.append(name)
            } else if tolerance.isExceeded(candidate: candidateValue, reference: referenceValue) {
                guard let (c, r) = histograms else {
                    violated.append(name)
                    continue
                }
                // Beyond tolerance; is the heavier tail more than noise?
                let tail = TailTest(candidate: c, reference: r, quantile: quantile)
                evidence["\(name).tail_z"] = .number(tail.test.z)
                evidence["\(name).tail_p_value"] = .number(tail.test.pValue)
                if tail.test.isSignificant(confidence: criteria.confidence) { violated.append(name) }
            }
        }
        if let margin = criteria.latencyShift, let (c, r) = histograms {
            let rank = RankTest(candidate: c, reference: r)
            evidence["latency_shift.superiority"] = .number(rank.superiority)
            evidence["latency_shift.limit"] = .number(0.5 + margin)
            evidence["latency_shift.z"] = .number(rank.z)
            evidence["latency_shift.p_value"] = .number(rank.pValue)
            if rank.superiority > 0.5 + margin && rank.isSignificant(confidence: criteria.confidence) {
                violated.append("latency_shift")
            }
        }
        if violated.isEmpty { return .pass(evidence) }
        evidence["violated"] = .string(violated.joined(separator: ","))
        return .violation(violated, evidence)
    }
}
