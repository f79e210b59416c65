// Fleet-wide statistics: what the leader spends merging a slice, and what an instance spends cutting one.
import Benchmark
import Foundation
import Resilience
import Sentinel

/// One instance's slice of `pipelines` pipelines, each with a `stable`/`canary`
/// split and `calls` calls in the slice: log-normal latencies (median 40 ms,
/// p99 about 200 ms) and 1 % failures, seeded by `seed`. Built from counts
/// directly: a report is what the leader reads, whatever made it.
func sliceReport(instance: String, pipelines: Int, calls: Int, seed: UInt64) -> SliceReport {
    var random = SplitMix64(seed: seed)
    var entries: [SliceReport.Entry] = []
    for index in 0..<pipelines {
        var sides: [(StatisticsSide, [UInt64], [UInt64])] = [(.live, [], []), (.variant("canary"), [], []), (.variant("stable"), [], [])]
        for side in sides.indices {
            sides[side].1 = [UInt64](repeating: 0, count: Outcome.allCases.count)
            sides[side].2 = [UInt64](repeating: 0, count: LatencyBuckets.count)
        }
        for _ in 0..<calls {
            // Box–Muller: a normal draw, then exp(ln 40 ms + 0.69 z): p99 ≈ 200 ms.
            let u1 = max(Double(random.next() >> 11) * 0x1.0p-53, 1e-12), u2 = Double(random.next() >> 11) * 0x1.0p-53
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let bucket = LatencyBuckets.index(nanoseconds: Int64(40_000_000 * exp(0.69 * z)))
            let outcome = Int(random.next() % 100 == 0 ? Outcome.failure.rawValue : Outcome.success.rawValue)
            for side in [0, random.next() % 10 == 0 ? 1 : 2] {
                sides[side].1[outcome] += 1
                sides[side].2[bucket] += 1
            }
        }
        for (side, counts, bins) in sides {
            let buckets = bins.indices.filter { bins[$0] > 0 }.map { OutcomeDelta.Bucket(index: UInt16($0), count: bins[$0]) }
            entries.append(.init(pipeline: "pipeline-\(index)", side: side, delta: OutcomeDelta(counts: counts, buckets: buckets)!))
        }
    }
    return SliceReport(instance: instance, slice: 180_000_000, entries: entries)
}

func fleetStatisticsBenchmarks() {
    // The leader's CPU per slice: decode and merge 100 instances' reports of 1,000 pipelines each
    // (100 calls a second a pipeline and instance). The goal: under 1 s.
    Benchmark(
        "fleet: merge a slice of 100 instances × 1,000 pipelines (decode + merge)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(30), maxIterations: 12)
    ) { benchmark in
        // Ten instances' traffic, each report used by ten instances (under their own names).
        var reports: [[UInt8]] = []
        for seed in 0..<10 {
            let report = sliceReport(instance: "i", pipelines: 1000, calls: 1000, seed: UInt64(seed))
            for copy in 0..<10 {
                reports.append(SliceReport(instance: "i\(seed * 10 + copy)", slice: report.slice, entries: report.entries).encoded())
            }
        }
        let merged = FleetStatistics()
        var slice: Int64 = 180_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            slice += 1
            for bytes in reports {
                var bytes = bytes
                relabel(&bytes, slice: slice)
                merged.merge(try SliceReport(decoding: bytes))
            }
        }
        benchmark.stopMeasurement()
        blackHole(merged.latestSlice)
    }

    // An instance's CPU per slice: read 1,000 pipelines' totals, take the differences, encode them.
    Benchmark(
        "fleet: cut and encode one instance's slice of 1,000 pipelines",
        configuration: .init(metrics: [.wallClock, .cpuTotal], scalingFactor: .one, maxIterations: 50)
    ) { benchmark in
        let registry = ParameterRegistry()
        let pipelines = try (0..<1000).map { index in
            try Pipeline("pipeline-\(index)", registry: registry, seed: UInt64(index)) { TrafficSplit([("stable", 90), ("canary", 10)]) }
        }
        // A slice's traffic on each: a hundred calls on live and on a variant, latencies spread over the buckets.
        for pipeline in pipelines {
            for call in 0..<100 {
                let latency = Int64(10_000_000 + call * 2_000_000)
                pipeline.windows.record(.success, latency: latency, now: 0)
                pipeline.variantWindows[call % 10 == 0 ? 1 : 0].windows.record(.success, latency: latency, now: 0)
            }
        }
        var publisher = SlicePublisher(instance: "i0")
        var slice: Int64 = 180_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            slice += 1
            // Each slice has new calls: a pipeline with nothing new is skipped, which would flatter the cut.
            for pipeline in pipelines { pipeline.windows.record(.success, latency: 40_000_000, now: 0) }
            blackHole(publisher.report(slice: slice, pipelines: pipelines).encoded())
        }
    }
}

/// Rewrites a report's slice in place: bytes 4 to 8, the zigzag varint of a
/// slice of this decade (always 5 bytes), as the leader would read a new slice.
private func relabel(_ bytes: inout [UInt8], slice: Int64) {
    var value = UInt64(slice << 1)
    for index in 4..<9 {
        bytes[index] = UInt8(value & 0x7F) | (index < 8 ? 0x80 : 0)
        value >>= 7
    }
}
