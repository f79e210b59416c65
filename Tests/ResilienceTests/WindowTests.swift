import Testing

@testable import Resilience

@Suite struct WindowTests {
    @Test func everyBucketIsWithinTwoPercentOfItsMidpoint() {
        for index in 1..<(LatencyBuckets.count - 1) {
            let (lower, upper) = LatencyBuckets.bounds(of: index)
            let mid = (lower + upper) / 2
            #expect((upper - mid) / mid <= 0.02, "bucket \(index) spans \(lower)...\(upper)")
            #expect(upper > lower)
        }
    }

    @Test func bucketIndexMatchesBounds() {
        var rng = Xoshiro256StarStar(seed: 7)
        for _ in 0..<20000 {
            let value = Int64(4096 + rng.next() % (1 << 36 - 4096))
            let index = LatencyBuckets.index(nanoseconds: value)
            let (lower, upper) = LatencyBuckets.bounds(of: index)
            #expect(Double(value) >= lower && Double(value) < upper, "\(value) not in bucket \(index)")
        }
    }

    @Test func emptyWindowsAreZerosNeverNaN() {
        let windows = OutcomeWindows()
        for window in StatisticsWindow.allCases {
            let stats = windows.stats(window, now: 123 * second)
            #expect(stats == .zero)
            #expect(!stats.errorRate.isNaN)
        }
    }

    @Test func percentilesAreWithinTwoPercentOfExact() {
        let windows = OutcomeWindows()
        var rng = Xoshiro256StarStar(seed: 11)
        var latencies: [Int64] = []
        for _ in 0..<50000 {
            // Log-uniform between 50 µs and 5 s.
            let exponent = 4.7 + rng.nextUnit() * 5.0
            let latency = Int64(pow10(exponent))
            latencies.append(latency)
            windows.record(.success, latency: latency, now: 5 * second)
        }
        latencies.sort()
        let stats = windows.stats(.tenSeconds, now: 5 * second)
        for (q, reported) in [(0.5, stats.p50), (0.9, stats.p90), (0.99, stats.p99)] {
            let exact = Double(latencies[Int((q * Double(latencies.count)).rounded(.up)) - 1]) * 1e-9
            #expect(abs(reported - exact) / exact <= 0.02, "p\(Int(q * 100)): \(reported) vs \(exact)")
        }
        #expect(stats.max == Double(latencies.last!) * 1e-9)
    }

    private func pow10(_ x: Double) -> Double {
        var result = 1.0
        var remaining = x
        while remaining >= 1 { result *= 10; remaining -= 1 }
        // 10^r = e^(r ln 10) by series
        let y = remaining * 2.302585092994046
        var term = 1.0, sum = 1.0
        for n in 1..<30 { term *= y / Double(n); sum += term }
        return result * sum
    }

    @Test func countsAddUpAndRejectionsArePartOfFailures() {
        let windows = OutcomeWindows()
        let now = 3 * second
        for _ in 0..<70 { windows.record(.success, latency: millisecond, now: now) }
        for _ in 0..<10 { windows.record(.failure, latency: millisecond, now: now) }
        for _ in 0..<5 { windows.record(.timeout, latency: 500 * millisecond, now: now) }
        for _ in 0..<6 { windows.record(.rejectedByBreaker, latency: 0, now: now) }
        for _ in 0..<4 { windows.record(.rejectedByBulkhead, latency: 0, now: now) }
        for _ in 0..<5 { windows.record(.rejectedByRateLimiter, latency: 0, now: now) }
        let stats = windows.stats(.oneMinute, now: now)
        #expect(stats.calls == 100)
        #expect(stats.successes + stats.failures == stats.calls)
        #expect(stats.failures == 30)
        #expect(stats.timeouts == 5)
        #expect(stats.rejections == 15)
        #expect(stats.breakerRejections == 6 && stats.bulkheadRejections == 4 && stats.rateLimiterRejections == 5)
        #expect(abs(stats.errorRate - 0.3) < 1e-12)
    }

    @Test func oldTrafficLeavesShortWindowsButStaysInLongOnes() {
        let windows = OutcomeWindows()
        // 10 calls per second for 5 minutes.
        for s in 0..<300 {
            for _ in 0..<10 { windows.record(.success, latency: 2 * millisecond, now: Int64(s) * second + 1) }
        }
        let now = 300 * second
        let ten = windows.stats(.tenSeconds, now: now)
        let minute = windows.stats(.oneMinute, now: now)
        let five = windows.stats(.fiveMinutes, now: now)
        let fifteen = windows.stats(.fifteenMinutes, now: now)
        #expect(abs(ten.calls - 100) <= 10, "10s: \(ten.calls)")
        #expect(abs(minute.calls - 600) <= 60, "1m: \(minute.calls)")
        #expect(abs(five.calls - 3000) <= 100, "5m: \(five.calls)")
        #expect(fifteen.calls == 3000, "15m: \(fifteen.calls)")
        // Much later, with no traffic, everything has aged out of the short windows.
        let later = windows.stats(.tenSeconds, now: 400 * second)
        #expect(later.calls == 0)
        #expect(windows.stats(.fifteenMinutes, now: 400 * second).calls == 3000)
        #expect(windows.stats(.fifteenMinutes, now: 2000 * second).calls == 0)
    }

    @Test func recordingFromManyTasksLosesNothing() async {
        let windows = OutcomeWindows()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for i in 0..<10000 {
                        // Crosses several slice boundaries while recording.
                        let now = Int64(i) * 5 * millisecond
                        windows.record(task % 2 == 0 ? .success : .failure, latency: Int64(i) * 1000, now: now)
                    }
                }
            }
        }
        let stats = windows.stats(.fifteenMinutes, now: 50 * second)
        #expect(stats.calls == 40000)
        #expect(stats.successes == 20000)
        #expect(stats.failures == 20000)
    }

    // 4 streams × (15,296 bytes of slices + 3,720 bytes of totals since the start).
    @Test func pipelineStatisticsFitIn80KiBWithShadowAndTwoVariants() throws {
        let (pipeline, _, _) = try manualPipeline {
            TrafficSplit([("canary", 10), ("stable", 90)])
            Retry()
        }
        #expect(pipeline.variantWindows.count == 2)
        #expect(pipeline.statisticsMemory <= 80 * 1024, "\(pipeline.statisticsMemory) bytes")
    }

    /// Seeded traffic over three hours with gaps longer than every window:
    /// the totals and every difference between two of them equal an
    /// independent count, whatever moved between tiers or left them.
    @Test(arguments: [1, 2, 3])
    func totalsSinceAMarkAreExactWithNoTimeLimit(seed: UInt64) {
        let windows = OutcomeWindows()
        var random = SplitMix64(seed: seed)
        var counted = [UInt64](repeating: 0, count: Outcome.allCases.count)
        var bins = [UInt64](repeating: 0, count: LatencyBuckets.count)
        var marks: [(totals: OutcomeTotals, counted: [UInt64], bins: [UInt64])] = []
        var now: Int64 = 0
        for step in 0..<20_000 {
            // Mostly a few ms apart, sometimes minutes, now and then longer than 15 minutes.
            let gap = random.next() % 100 == 0 ? Int64(random.next() % 1_800) * second : Int64(random.next() % 2_000) * millisecond
            now += gap
            let outcome = Outcome(rawValue: UInt8(random.next() % UInt64(Outcome.allCases.count)))!
            let latency = Int64(random.next() % 3_000_000_000)
            windows.record(outcome, latency: latency, now: now)
            counted[Int(outcome.rawValue)] += 1
            if outcome != .unknown { bins[LatencyBuckets.index(nanoseconds: latency)] += 1 }
            if step % 2_500 == 0 { marks.append((windows.totals(), counted, bins)) }
        }
        #expect(now > 3 * 3_600 * second)
        let totals = windows.totals()
        #expect(totals.counts == counted && totals.bins == bins)
        for mark in marks {
            let since = totals.since(mark.totals)
            #expect(since.counts == zip(counted, mark.counted).map { $0 - $1 })
            #expect(since.bins == zip(bins, mark.bins).map { $0 - $1 })
        }
        let stats = totals.since(marks[1].totals).stats
        let expectedCalls = zip(counted, marks[1].counted).enumerated().filter { $0.offset != Int(Outcome.unknown.rawValue) }
            .map { $0.element.0 - $0.element.1 }.reduce(0, +)
        #expect(UInt64(stats.calls) == expectedCalls && stats.p99 > 2.9 && stats.p99 < 3.1 && stats.max >= stats.p99)
    }

    @Test func totalsFromManyTasksLoseNothing() async {
        let windows = OutcomeWindows()
        let mark = windows.totals()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for i in 0..<10000 {
                        // Drifting clocks: the tasks cross slice boundaries, and reach past every window.
                        let now = Int64(i) * Int64(task + 1) * 100 * millisecond
                        windows.record(task % 2 == 0 ? .success : .timeout, latency: Int64(i) * 1000, now: now)
                    }
                }
                group.addTask { for _ in 0..<50 { _ = windows.totals() } }
            }
        }
        let since = windows.totals().since(mark)
        #expect(since.count(.success) == 20000 && since.count(.timeout) == 20000)
        #expect(since.bins.reduce(0, +) == 40000)
        #expect(since.stats.calls == 40000 && since.stats.timeouts == 20000, "\(since.stats)")
    }

    @Test func totalsWithoutTrafficAreZero() {
        let windows = OutcomeWindows()
        #expect(windows.totals() == .zero)
        let stats = OutcomeTotals.zero.stats
        #expect(stats.calls == 0 && stats.errorRate == 0 && stats.p99 == 0 && stats.max == 0)
    }

    @Test func eventStreamDropsAndCountsWhenFull() {
        let stream = EventStream(capacity: 2)
        for i in 0..<5 { stream.emit(PolicyEvent(pipeline: "p", kind: .retryExhausted(attempts: i), time: 0)) }
        #expect(stream.dropped == 3)
    }
}
