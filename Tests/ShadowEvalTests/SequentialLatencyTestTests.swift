import Resilience
import ShadowEval
import Testing

/// The sequential latency-tail test: the fixed threshold, the calls it
/// counts, and its verdicts on hand-made histograms (calibration by
/// simulation is in ``SequentialCalibrationTests``).
@Suite struct SequentialLatencyTestTests {
    /// A histogram with `calls` calls spread over the buckets of `milliseconds` (cumulative counts per value).
    static func histogram(_ calls: [(milliseconds: Double, count: UInt64)]) -> [UInt64] {
        var histogram = [UInt64](repeating: 0, count: LatencyBuckets.count)
        for (milliseconds, count) in calls {
            histogram[LatencyBuckets.index(nanoseconds: Int64(milliseconds * 1e6))] += count
        }
        return histogram
    }

    /// 99 % of calls at 50 ms and 1 % at 200 ms, times `k`; `tail` overrides the slow share.
    static func traffic(_ k: UInt64, slow: UInt64? = nil, slowAt: Double = 200) -> [UInt64] {
        histogram([(50, 99 * k), (slowAt, slow ?? k)])
    }

    @Test func theThresholdWaitsForEnoughReferenceCalls() {
        var test = SequentialLatencyTest(quantile: 0.99)
        #expect(test.thresholdCalls == 1_000)
        #expect(test.look(candidate: Self.traffic(1), reference: Self.traffic(9)) == .continue)
        #expect(test.threshold == nil)
        #expect(test.shares.looks == 0)
        test.look(candidate: Self.traffic(2), reference: Self.traffic(10))
        #expect(test.threshold != nil)
    }

    @Test func theThresholdIsTheReferenceQuantileBucketAndNeverMoves() throws {
        var test = SequentialLatencyTest(quantile: 0.95, scale: 1)
        // 95 % at 50 ms, 5 % at 200 ms: the 95th percentile is in the 50 ms bucket.
        let reference = Self.histogram([(50, 950), (200, 50)])
        test.look(candidate: Self.histogram([(50, 10)]), reference: reference)
        let threshold = try #require(test.threshold)
        #expect(threshold.referenceBucket == LatencyBuckets.index(nanoseconds: 50_000_000))
        #expect(threshold.candidateBucket == threshold.referenceBucket + 1)
        #expect(threshold.effectiveScale == 1)
        #expect(threshold.referenceCallsBefore == 1_000 && threshold.referenceTailBefore == 50)
        // The reference slows down entirely: the threshold stays where it was.
        let slower = zip(reference, Self.histogram([(400, 5_000)])).map { $0 + $1 }
        test.look(candidate: Self.histogram([(50, 20)]), reference: slower)
        #expect(test.threshold == threshold)
        #expect(threshold.candidateCallsBefore == 10 && threshold.candidateTailBefore == 0)
        // Only the calls after the fixing look count, on both sides: 5,000 on the reference, all in the tail.
        #expect(test.shares.referenceCalls == 5_000 && test.shares.referenceBad == 5_000)
        #expect(test.shares.candidateCalls == 10 && test.shares.candidateBad == 0)
    }

    @Test(arguments: [1.0, 1.1, 1.2, 1.5, 2.0])
    func theScaleMapsToTheFirstBucketEdgeAboveIt(_ scale: Double) throws {
        var test = SequentialLatencyTest(quantile: 0.99, scale: scale)
        test.look(candidate: Self.traffic(1), reference: Self.traffic(20))
        let threshold = try #require(test.threshold)
        #expect(threshold.effectiveScale >= scale * (1 - 1e-12))
        #expect(threshold.effectiveScale < scale * 1.04)
        #expect(LatencyBuckets.bounds(of: threshold.candidateBucket - 1).lower < scale * threshold.referenceNanoseconds)
    }

    @Test func doubleAndIntegerHistogramsAgree() {
        var integers = SequentialLatencyTest(), doubles = SequentialLatencyTest()
        for k in 1...30 {
            let candidate = Self.traffic(UInt64(k), slow: UInt64(3 * k), slowAt: 300)
            let reference = Self.traffic(UInt64(10 * k))
            integers.look(candidate: candidate, reference: reference)
            doubles.look(candidate: candidate.map { Double($0) }, reference: reference.map { Double($0) })
        }
        #expect(integers.evidence == doubles.evidence)
        #expect(integers.verdict == .violation)
    }

    @Test func aTripledTailViolatesTheSameTailWaitsAndNoTailPasses() {
        var slower = SequentialLatencyTest(alpha: 0.001)
        var same = SequentialLatencyTest(alpha: 0.001)
        var faster = SequentialLatencyTest(alpha: 0.001)
        for k in 1...100 {
            let reference = Self.traffic(UInt64(100 * k))
            slower.look(candidate: Self.traffic(UInt64(10 * k), slow: UInt64(30 * k), slowAt: 300), reference: reference)
            same.look(candidate: Self.traffic(UInt64(10 * k)), reference: reference)
            faster.look(candidate: Self.traffic(UInt64(10 * k), slow: 0), reference: reference)
        }
        #expect(slower.verdict == .violation)
        // The same 1 % at 200 ms is above 1.2 × the threshold too: equal shares, on the edge of both verdicts.
        #expect(same.verdict == .continue)
        #expect(faster.verdict == .pass)
    }

    @Test func badHistogramValuesCountAsNothing() {
        var test = SequentialLatencyTest(thresholdCalls: 10)
        var candidate = Self.traffic(1).map { Double($0) }
        candidate[3] = -.infinity
        candidate[4] = .nan
        candidate[5] = -7
        test.look(candidate: candidate, reference: Self.traffic(10).map { Double($0) })
        #expect(test.threshold?.candidateCallsBefore == 100)
        // The next look counts the calls since: the bad values still count as nothing.
        test.look(candidate: candidate.map { $0.isFinite && $0 > 0 ? 2 * $0 : $0 }, reference: Self.traffic(20).map { Double($0) })
        #expect(test.shares.candidateCalls == 100)
        #expect(test.shares.ignoredLooks == 0)
    }

    @Test func aQuantileInTheOverflowBucketNeverDecides() throws {
        var test = SequentialLatencyTest(thresholdCalls: 10)
        let overflow = Self.histogram([(100_000, 100)])
        for _ in 1...5 { test.look(candidate: overflow, reference: overflow) }
        let threshold = try #require(test.threshold)
        #expect(threshold.referenceBucket == LatencyBuckets.count - 1)
        #expect(test.verdict == .continue)
        #expect(test.entries.values.allSatisfy { $0.number?.isFinite ?? true })
    }

    @Test func theEntriesCarryTheThresholdsInSeconds() throws {
        var test = SequentialLatencyTest()
        #expect(test.entries["threshold_reference"] == nil)
        test.look(candidate: Self.traffic(1), reference: Self.traffic(20))
        let threshold = try #require(test.threshold)
        let entries = test.entries
        #expect(entries["quantile"] == .number(0.99))
        #expect(entries["scale"] == .number(1.2))
        #expect(entries["threshold_reference"] == .number(threshold.referenceNanoseconds / 1e9))
        #expect(entries["threshold_candidate"] == .number(threshold.candidateNanoseconds / 1e9))
        #expect(entries.values.allSatisfy { $0.number?.isFinite ?? true })
    }
}
