import Foundation
import Resilience
import Testing

@testable import Sentinel

/// Fleet-wide statistics: instances cut their totals into slices
/// (``SlicePublisher``), the bytes go to the store and back
/// (``SliceReport/encoded()``), and the leader merges them
/// (``FleetStatistics``) exactly, into the `state` scripts read.
@Suite struct FleetStatisticsTests {
    static let second: Int64 = 1_000_000_000

    /// `count` instances of one pipeline (live, shadow, `stable` and `canary`), each on its own clock and registry.
    static func instances(_ count: Int) throws -> [Fixture] {
        try (0..<count).map { _ in try Fixture() }
    }

    /// Records `calls` seeded outcomes on `fixture`'s live windows and one variant's, at `now`.
    static func record(_ fixture: Fixture, calls: Int, at now: Int64, random: inout SplitMix64, slow: Bool = false) {
        let variants = fixture.pipeline.variantWindows
        for _ in 0..<calls {
            let draw = random.next()
            let outcome: Outcome =
                switch draw % 100 {
                case 0..<3: .failure
                case 3: .timeout
                case 4: .rejectedByBulkhead
                default: .success
                }
            // Log-uniform from 1 ms to about 1 s (4 s when slow): many buckets, a few of them busy.
            let exponent = Double((draw >> 8) % 10_000) / 10_000 * (slow ? 12 : 10)
            let latency = Int64(1_000_000 * pow(2, exponent))
            fixture.pipeline.windows.record(outcome, latency: latency, now: now)
            variants[Int((draw >> 40) % UInt64(variants.count))].windows.record(outcome, latency: latency, now: now)
            if draw % 7 == 0 { fixture.pipeline.shadowWindows.record(draw % 11 == 0 ? .unknown : outcome, latency: latency, now: now) }
        }
    }

    /// The sum of every instance's totals of one side.
    static func sum(_ fleet: [Fixture], _ side: StatisticsSide) -> OutcomeTotals {
        fleet.reduce(OutcomeTotals.zero) { total, fixture in
            total.adding(PipelineStatistics.local(fixture.pipeline, instant: 0).totals(side))
        }
    }

    @Test(arguments: [1, 2, 3])
    func mergedTotalsAndWindowsAreTheSumOfTheInstances(seed: UInt64) throws {
        let fleet = try Self.instances(7)
        var publishers = (0..<fleet.count).map { SlicePublisher(instance: "i\($0)") }
        let merged = FleetStatistics()
        // The same calls recorded in one process, at the same slices: what the merge must equal.
        let single = try Fixture()
        var random = SplitMix64(seed: seed)
        let first: Int64 = 180_000_000  // a slice of 2027
        for slice in first..<(first + 100) {
            for (index, fixture) in fleet.enumerated() {
                let calls = Int(random.next() % 60) + (index == 3 ? 0 : 5)  // instance 3 is sometimes idle
                let at = slice * 10 * Self.second + Int64(random.next() % 9) * Self.second
                var copy = random
                Self.record(fixture, calls: calls, at: at, random: &random, slow: index == 5)
                Self.record(single, calls: calls, at: at, random: &copy, slow: index == 5)
            }
            for (index, fixture) in fleet.enumerated() {
                let report = publishers[index].report(slice: slice, pipelines: [fixture.pipeline])
                // Through the bytes, as through the store.
                #expect(merged.merge(try SliceReport(decoding: report.encoded())) == .taken)
            }
        }
        let statistics = try #require(merged.statistics(of: single.pipeline))
        let reference = PipelineStatistics.local(single.pipeline, instant: (first + 100) * 10 * Self.second - 1)
        #expect(statistics.instant == reference.instant)
        for side in [StatisticsSide.live, .shadow, .variant("stable"), .variant("canary")] {
            // Exact: every count and every bucket.
            #expect(statistics.totals(side) == Self.sum(fleet, side), "\(side)")
            #expect(statistics.totals(side) == reference.totals(side), "\(side)")
            let mergedWindows = try #require(statistics.side(side.name)), referenceWindows = try #require(reference.side(side.name))
            for window in StatisticsWindow.allCases {
                let (a, b) = (mergedWindows.stats(window, now: statistics.instant), referenceWindows.stats(window, now: reference.instant))
                #expect(a.calls == b.calls && a.failures == b.failures && a.timeouts == b.timeouts, "\(side) \(window)")
                #expect(a.rejections == b.rejections && a.unknown == b.unknown && a.p50 == b.p50, "\(side) \(window)")
                #expect(
                    mergedWindows.latencyHistogram(window, now: statistics.instant)
                        == referenceWindows.latencyHistogram(window, now: reference.instant), "\(side) \(window)")
            }
        }
        #expect(statistics.totals(.live).count(.success) > 15_000)
        #expect(merged.reporting().count == 7)
    }

    @Test func aReportReadTwiceCountsOnceAndALateOneStillCounts() throws {
        let fleet = try Self.instances(2)
        var publishers = [SlicePublisher(instance: "a"), SlicePublisher(instance: "b")]
        let merged = FleetStatistics()
        var random = SplitMix64(seed: 9)
        var late: [SliceReport] = []
        for slice in Int64(10)..<20 {
            for index in 0..<2 {
                Self.record(fleet[index], calls: 50, at: slice * 10 * Self.second, random: &random)
                let report = publishers[index].report(slice: slice, pipelines: [fleet[index].pipeline])
                // Instance b's slices 12 and 13 come after slice 19.
                if index == 1 && (slice == 12 || slice == 13) { late.append(report); continue }
                #expect(merged.merge(report) == .taken)
                #expect(merged.merge(report) == .duplicate, "read twice: merged once")
            }
        }
        for report in late { #expect(merged.merge(report) == .taken) }
        let statistics = try #require(merged.statistics(of: fleet[0].pipeline))
        #expect(statistics.totals(.live) == Self.sum(fleet, .live))
        #expect(statistics.live.stats(.fifteenMinutes, now: statistics.instant).calls == 2 * 10 * 50)
        // The two late slices count in the slice before the newest, not in the newest.
        #expect(statistics.live.stats(.tenSeconds, now: statistics.instant).calls == 2 * 50)
        #expect(merged.latestSlice == 19)
    }

    @Test func anInstanceThatStopsReportingIsAbsentAfterThreeSlices() throws {
        let fixture = try Fixture()
        let merged = FleetStatistics(absentAfter: 3)
        for slice in Int64(0)..<10 {
            for instance in ["a", "b", "c"] where instance != "c" || slice < 4 {
                merged.merge(SliceReport(instance: instance, slice: slice, entries: []))
            }
            let reporting = merged.reporting(), absent = merged.absent()
            // c's last slice is 3: it still counts at 4 and 5, not from 6 on.
            #expect(reporting == (slice < 6 ? ["a", "b", "c"] : ["a", "b"]), "slice \(slice)")
            #expect(absent == (slice < 6 ? [] : ["c"]), "slice \(slice)")
        }
        let statistics = try #require(merged.statistics(of: fixture.pipeline))
        #expect(statistics.instances.keys.sorted() == ["a", "b"])
        merged.forgetLongAbsent()
        #expect(merged.absent() == ["c"], "absent for 6 slices: still listed")
        for instance in ["a", "b"] { merged.merge(SliceReport(instance: instance, slice: 200, entries: [])) }
        merged.forgetLongAbsent()
        #expect(merged.absent().isEmpty, "absent for longer than the longest window: forgotten")
    }

    /// A clock that the test moves (Unix seconds).
    final class TestClock: Sendable {
        let seconds = Locked(1_800_000_000.0)
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
        var now: Double { seconds.withLock { $0 } }
    }

    @Test func withAClockASliceEntersTwoSecondsAfterItEndedAndTheWindowsMoveOnWithoutReports() throws {
        let fixture = try Fixture()
        let clock = TestClock()
        let merged = FleetStatistics(clock: { clock.now })
        let slice = FleetClock.slice(at: clock.now)
        func calls(_ report: Int) -> SliceReport {
            let delta = OutcomeDelta(counts: [UInt64(report), 0, 0, 0, 0, 0, 0], buckets: [.init(index: 300, count: UInt64(report))])!
            return SliceReport(instance: "i\(report)", slice: slice, entries: [.init(pipeline: "checkout", side: .live, delta: delta)])
        }
        func tenSeconds() -> Int {
            let statistics = merged.statistics(of: fixture.pipeline)!
            return statistics.live.stats(.tenSeconds, now: statistics.instant).calls
        }
        // The slice is under way: its reports wait.
        #expect(merged.merge(calls(3)) == .taken)
        #expect(merged.latestSlice == nil && tenSeconds() == 0)
        // It ended, plus a second: still waiting for the others' reports.
        clock.advance(FleetClock.start(of: slice + 1) - clock.now + 1)
        #expect(merged.merge(calls(4)) == .taken)
        merged.advance()
        #expect(tenSeconds() == 0)
        // Two seconds after its end it enters, whole (when the merging loop advances: reads never do the work).
        clock.advance(1.5)
        #expect(tenSeconds() == 0)
        merged.advance()
        #expect(tenSeconds() == 7 && merged.latestSlice == slice)
        #expect(merged.merge(calls(5)) == .taken)
        #expect(tenSeconds() == 12)
        // Reports stop: the windows move on and empty; the totals keep everything.
        clock.advance(10)
        merged.advance()
        #expect(tenSeconds() == 0)
        #expect(merged.statistics(of: fixture.pipeline)!.totals(.live).count(.success) == 12)
        // A slice from the future, or from no time of this fleet, is refused.
        let ahead = SliceReport(instance: "x", slice: FleetClock.slice(at: clock.now) + 2, entries: [])
        #expect(merged.merge(ahead) == .ahead)
        #expect(merged.merge(SliceReport(instance: "x", slice: Int64.max / 2, entries: [])) == .outOfRange)
        #expect(merged.merge(SliceReport(instance: "x", slice: -1, entries: [])) == .outOfRange)
    }

    @Test func eachMergeIsItsOwnOriginEvenAtTheSameAddress() throws {
        var origins: Set<StatisticsOrigin> = []
        // Freed before the next is made: the allocator may give the same address, not the same origin.
        for _ in 0..<5 { origins.insert(FleetStatistics().origin) }
        #expect(origins.count == 5)
    }

    @Test func windowsThatLeftAreCutOneLastTime() throws {
        let registry = ParameterRegistry()
        var pipeline: Pipeline? = try Pipeline("checkout", registry: registry) { Retry(maxAttempts: 2) }
        var publisher = SlicePublisher(instance: "a")
        pipeline?.windows.record(.success, latency: 1_000_000, now: 0)
        #expect(publisher.report(slice: 1, pipelines: [pipeline!]).entries.count == 1)
        // Two more calls, then the pipeline is registered again: the old windows' calls still go out.
        pipeline?.windows.record(.success, latency: 1_000_000, now: 0)
        pipeline?.windows.record(.failure, latency: 1_000_000, now: 0)
        registry.unregister(pipeline: "checkout")
        pipeline = try Pipeline("checkout", registry: registry) { Retry(maxAttempts: 2) }
        pipeline?.windows.record(.success, latency: 1_000_000, now: 0)
        let report = publisher.report(slice: 2, pipelines: [pipeline!])
        #expect(report.entries.count == 1)
        #expect(report.entries.first?.delta.count(.success) == 2 && report.entries.first?.delta.count(.failure) == 1)
        #expect(publisher.report(slice: 3, pipelines: [pipeline!]).entries.isEmpty)
    }

    @Test func aDeltaBeyondABillionCallsABucketKeepsTheTotalsExact() throws {
        let windows = OutcomeWindows()
        let huge = OutcomeDelta(counts: [5_000_000_000, 0, 0, 0, 0, 0, 0], buckets: [.init(index: 200, count: 5_000_000_000)])!
        windows.record(huge, now: 0)
        windows.record(huge, now: 10_000_000_000)
        #expect(windows.totals().count(.success) == 10_000_000_000)
        #expect(windows.totals().bins[200] == 10_000_000_000)
        #expect(windows.stats(.oneMinute, now: 20_000_000_000).calls == 10_000_000_000)
    }

    @Test func reportsSurviveTheirBytesAndBadBytesAreRefusedWithTheField() throws {
        let fixture = try Fixture()
        var random = SplitMix64(seed: 4)
        Self.record(fixture, calls: 500, at: 0, random: &random)
        var publisher = SlicePublisher(instance: "checkout-7f9c")
        let report = publisher.report(slice: 180_000_123, pipelines: [fixture.pipeline])
        #expect(report.entries.count == 4)
        let bytes = report.encoded()
        #expect(try SliceReport(decoding: bytes) == report)
        // About two bytes a busy bucket: these calls spread over 10 doublings, some 190 buckets a stream.
        let buckets = report.entries.reduce(0) { $0 + $1.delta.buckets.count }
        #expect(bytes.count < 40 + report.entries.count * 24 + buckets * 2, "\(bytes.count) bytes, \(buckets) buckets")
        // A slice before 1970 and an empty report go through too.
        let empty = SliceReport(instance: "", slice: -3, entries: [])
        #expect(try SliceReport(decoding: empty.encoded()) == empty)

        // Every truncation is an error naming a field, never a crash or a shorter report.
        for length in 0..<bytes.count {
            #expect(throws: SliceReportDecodingError.self) { try SliceReport(decoding: Array(bytes[0..<length])) }
        }
        func problem(_ bytes: [UInt8]) -> String {
            do {
                _ = try SliceReport(decoding: bytes)
                return "decoded"
            } catch { return error.description }
        }
        #expect(problem(Array("SSR2".utf8) + bytes.dropFirst(4)).contains("not a slice report"))
        #expect(problem(bytes + [0]).contains("1 bytes after the last pipeline"))
        #expect(problem([]).contains("byte 0, header"))
        // One pipeline, a side tag of 7.
        let header = Array("SSR1".utf8) + [0, 1, 0x61, 1]
        #expect(problem(header + [5] + Array("check".utf8) + [1, 7]).contains("unknown side tag 7"))
        // Seven counts, then a bucket listed with a count of zero; then one beyond the last bucket.
        let live = header + [1, 0x70, 1, 0] + [UInt8](repeating: 1, count: 7)
        #expect(problem(live + [1, 4, 0]).contains("an empty bucket is listed"))
        #expect(problem(live + [1, 0xCA, 0x03, 1]).contains("a bucket beyond the last"))
        #expect(problem(live + [2, 3, 1, 0]).contains("the bytes end inside a number"))
        // Too many buckets, a number above 2^64, a name that is not UTF-8.
        #expect(problem(live + [0xD0, 0x03]).contains("more than 458"))
        // The same stream twice: it would count twice.
        let twice = header + [1, 0x70, 2] + [0] + [UInt8](repeating: 1, count: 7) + [0] + [0] + [UInt8](repeating: 1, count: 7) + [0]
        #expect(problem(twice).contains("streams must be in order, each once"))
        #expect(problem(header + [1, 0x70, 1, 0] + [UInt8](repeating: 0xFF, count: 10) + [1]).contains("above 2^64"))
        // 2^41 calls in one slice: no real slice, and sums of such counts would overflow.
        #expect(problem(header + [1, 0x70, 1, 0] + [0x80, 0x80, 0x80, 0x80, 0x80, 0x40]).contains("more than 2^40 in one slice"))
        #expect(problem(Array("SSR1".utf8) + [0, 2, 0xC3, 0x28]).contains("instance: not UTF-8"))
    }

    @Test func aSliceHoldsOnlyTheStreamsThatRecordedAndOnlyTheirBusyBuckets() throws {
        let fixture = try Fixture()
        var publisher = SlicePublisher(instance: "a")
        #expect(publisher.report(slice: 1, pipelines: [fixture.pipeline]).entries.isEmpty)
        let canary = fixture.pipeline.variantWindows.first { $0.name == "canary" }!.windows
        for _ in 0..<10 { canary.record(.success, latency: 40_000_000, now: 0) }
        canary.record(.failure, latency: 900_000_000, now: 0)
        let report = publisher.report(slice: 2, pipelines: [fixture.pipeline])
        #expect(report.entries.map(\.side) == [.variant("canary")])
        let delta = try #require(report.entries.first?.delta)
        #expect(delta.buckets.map(\.count) == [10, 1])
        #expect(delta.count(.success) == 10 && delta.count(.failure) == 1)
        // The next slice holds only what came after.
        canary.record(.success, latency: 40_000_000, now: 0)
        #expect(publisher.report(slice: 3, pipelines: [fixture.pipeline]).entries.first?.delta.buckets.map(\.count) == [1])
    }

    /// What one instance writes a minute (docs/performance.md, "Fleet-wide
    /// statistics"): pipelines with a `stable`/`canary` split at `rate` calls a
    /// second each, log-normal latencies (median 40 ms, p99 about 200 ms).
    static func bytesPerMinute(pipelines count: Int, rate: Int) throws -> Int {
        let registry = ParameterRegistry()
        var random = SplitMix64(seed: UInt64(count))
        let pipelines = try (0..<count).map { index in
            try Pipeline("pipeline-\(index)", registry: registry, seed: UInt64(index)) {
                TrafficSplit([("stable", 95), ("canary", 5)])
            }
        }
        var publisher = SlicePublisher(instance: "checkout-1")
        var bytes = 0
        for slice in Int64(0)..<6 {
            for pipeline in pipelines {
                for _ in 0..<(rate * 10) {
                    let u1 = max(Double(random.next() >> 11) * 0x1.0p-53, 1e-12), u2 = Double(random.next() >> 11) * 0x1.0p-53
                    let latency = Int64(40_000_000 * exp(0.69 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)))
                    let outcome: Outcome = random.next() % 100 == 0 ? .failure : .success
                    pipeline.windows.record(outcome, latency: latency, now: slice * 10 * Self.second)
                    pipeline.variantWindows[random.next() % 20 == 0 ? 1 : 0].windows.record(outcome, latency: latency, now: 0)
                }
            }
            bytes += publisher.report(slice: slice, pipelines: pipelines).encoded().count
        }
        return bytes
    }

    @Test func anInstanceWritesLittleEachMinute() throws {
        let ten = try Self.bytesPerMinute(pipelines: 10, rate: 100)
        let tenQuiet = try Self.bytesPerMinute(pipelines: 10, rate: 1)
        let thousand = try Self.bytesPerMinute(pipelines: 1000, rate: 10)
        print("slice bytes a minute: 10 pipelines at 100/s \(ten), at 1/s \(tenQuiet); 1,000 pipelines at 10/s \(thousand)")
        // Dense buckets would be 3 streams × 458 buckets × 8 bytes a pipeline and slice: 66 KB a minute for one pipeline.
        #expect(ten < 10 * 6 * 700)
        #expect(tenQuiet < 10 * 6 * 100)
        #expect(thousand < 1000 * 6 * 500)
    }

    /// A rule on a fleet's leader reads the fleet's calls: windows, marks, comparisons and each instance's latest slice.
    static let fleetRule = """
        return { interval = "10s", evaluate = function(state, memory)
          local checkout = state.pipelines.checkout
          memory.ticks = (memory.ticks or 0) + 1
          if memory.ticks == 1 then sentinel.mark("checkout", "step") end
          local step = sentinel.since("checkout", "step")
          local lines = { "ticks=" .. memory.ticks, "10s=" .. checkout.windows["10s"].calls,
                          "since=" .. (step and step.variants.canary.calls or -1) }
          local ids = {}
          for id in pairs(checkout.instances or {}) do ids[#ids + 1] = id end
          table.sort(ids)
          for _, id in ipairs(ids) do
            lines[#lines + 1] = id .. "=" .. checkout.instances[id].windows["10s"].calls
          end
          sentinel.log("info", table.concat(lines, " "))
        end }
        """

    @Test func aRuleOnTheLeaderReadsTheFleetsCalls() async throws {
        let leader = try Fixture()
        let fleet = try Self.instances(3)
        var publishers = (0..<3).map { SlicePublisher(instance: "i\($0)") }
        let merged = Locked(FleetStatistics())
        let engine = ScriptEngine(plane: leader.plane, logger: .silent)
        await engine.setStatisticsProvider { merged.withLock { $0 } }
        var logs: [String] = []
        _ = try await engine.load(path: "p/fleet.lua", source: Self.fleetRule).get()
        func slice(_ slice: Int64, canaryCalls: [Int]) async {
            for (index, fixture) in fleet.enumerated() {
                let canary = fixture.pipeline.variantWindows.first { $0.name == "canary" }!.windows
                for _ in 0..<canaryCalls[index] {
                    canary.record(.success, latency: 30_000_000, now: 0)
                    fixture.pipeline.windows.record(.success, latency: 30_000_000, now: 0)
                }
                merged.withLock { $0 }.merge(publishers[index].report(slice: slice, pipelines: [fixture.pipeline]))
            }
            leader.advance(.seconds(10))
            let round = await engine.tick()
            logs += round.logs.map(\.line.message)
        }
        await slice(1, canaryCalls: [5, 7, 11])
        await slice(2, canaryCalls: [1, 2, 3])
        await slice(3, canaryCalls: [10, 0, 0])
        #expect(
            logs == [
                "ticks=1 10s=23 since=0 i0=5 i1=7 i2=11",
                "ticks=2 10s=6 since=6 i0=1 i1=2 i2=3",
                "ticks=3 10s=10 since=16 i0=10 i1=0 i2=0",
            ])
        // A new leader's merge is another origin: the mark does not apply to it, the rule marks again.
        merged.withLock { $0 = FleetStatistics() }
        await slice(4, canaryCalls: [1, 1, 1])
        #expect(logs.last == "ticks=4 10s=3 since=-1 i0=1 i1=1 i2=1")
    }
}
