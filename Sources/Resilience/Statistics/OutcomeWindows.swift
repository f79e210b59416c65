import Synchronization

/// The windowed statistics of one stream of outcomes (a pipeline's live calls,
/// its shadow judgements, or one traffic-split variant).
///
/// Four tiers of time slices, two slices each: 10 s, 1 min, 5 min and 15 min
/// wide. Recording touches only the current 10 s slice (two relaxed atomic
/// adds and a load). When a slice is reused, its content is first merged into
/// the tier above, so longer windows are read by merging a few slices, never
/// by scanning events. A window of length W is the current slice of its tier
/// plus the previous one weighted by how much of it still lies within W (the
/// sliding-window-counter estimate), plus lower-tier slices not yet merged.
///
/// Memory is fixed: 8 slices × (10 counters + 458 histogram buckets) ≈ 15 KiB,
/// plus the totals of what left every window (≈ 3.7 KiB), which make
/// ``totals()`` exact since the windows were made: a slice's content is never
/// dropped, it moves up a tier or into those totals.
public final class OutcomeWindows: @unchecked Sendable {
    // @unchecked: the raw buffers are read and written only through atomic
    // operations; slice reuse is serialized by `rotation`, and the retired
    // totals are read and written only under it.

    static let tiers = 4
    static let slotsPerTier = 2
    static let slots = tiers * slotsPerTier
    static let widths: [Int64] = [10_000_000_000, 60_000_000_000, 300_000_000_000, 900_000_000_000]
    static let counterStride = 10  // tag, merged, 7 outcome counters, max latency
    static let tagOffset = 0
    static let mergedOffset = 1
    static let countOffset = 2
    static let maxOffset = 9
    static let buckets = LatencyBuckets.count
    /// Calls of one delta's bucket recorded in a slot (a quarter of 32 bits: room for the tiers' sums).
    static let bulkBucketLimit: UInt64 = 1 << 30

    private let counters: UnsafeMutablePointer<Atomic<UInt64>>
    private let histogram: UnsafeMutablePointer<Atomic<UInt32>>
    private let rotation = Locked<Void>(())
    /// What left every window: outcome counts, then histogram buckets. Under `rotation`.
    private let retired: UnsafeMutablePointer<UInt64>

    /// Makes empty windows.
    public init() {
        counters = .allocate(capacity: Self.slots * Self.counterStride)
        for i in 0..<(Self.slots * Self.counterStride) { (counters + i).initialize(to: Atomic(0)) }
        histogram = .allocate(capacity: Self.slots * Self.buckets)
        for i in 0..<(Self.slots * Self.buckets) { (histogram + i).initialize(to: Atomic(0)) }
        retired = .allocate(capacity: OutcomeTotals.outcomeCount + Self.buckets)
        retired.initialize(repeating: 0, count: OutcomeTotals.outcomeCount + Self.buckets)
    }

    deinit {
        counters.deinitialize(count: Self.slots * Self.counterStride)
        counters.deallocate()
        histogram.deinitialize(count: Self.slots * Self.buckets)
        histogram.deallocate()
        retired.deallocate()
    }

    /// Bytes of slice storage held (fixed).
    public static var memoryFootprint: Int {
        slots * counterStride * MemoryLayout<UInt64>.stride + slots * buckets * MemoryLayout<UInt32>.stride
            + (OutcomeTotals.outcomeCount + buckets) * MemoryLayout<UInt64>.stride
    }

    // MARK: - Recording

    /// Records one outcome with its latency (nanoseconds) at instant `now`.
    ///
    /// Safe from any number of tasks at once; takes no lock except once per
    /// 10 s slice, when the first recorder of a new slice recycles it.
    @inline(__always)
    public func record(_ outcome: Outcome, latency: Int64, now: Int64) {
        let period = UInt64(max(now, 0)) / 10_000_000_000
        let slot = Int(period & 1)
        let cells = counters + slot * Self.counterStride
        if cells[Self.tagOffset].load(ordering: .acquiring) != period &+ 1 {
            rotation.withLock { _ in recycle(tier: 0, slot: slot, period: period) }
        }
        cells[Self.countOffset + Int(outcome.rawValue)].wrappingAdd(1, ordering: .relaxed)
        if outcome == .unknown { return }
        let index = LatencyBuckets.index(nanoseconds: latency)
        histogram[slot * Self.buckets + index].wrappingAdd(1, ordering: .relaxed)
        Self.raiseMaximum(of: cells, to: UInt64(max(latency, 0)))
    }

    /// Raises a slice's maximum latency to `value` (a compare-and-swap loop: recorders race).
    @inline(__always)
    private static func raiseMaximum(of cells: UnsafeMutablePointer<Atomic<UInt64>>, to value: UInt64) {
        var seen = cells[maxOffset].load(ordering: .relaxed)
        while value > seen {
            let (exchanged, original) = cells[maxOffset].compareExchange(expected: seen, desired: value, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// Records a whole delta at instant `now`, as if each of its outcomes had
    /// been recorded there: how a fleet's leader keeps the merged windows of
    /// the instances' slices. The maximum latency becomes the highest
    /// non-empty bucket's midpoint (a delta keeps no exact maximum).
    public func record(_ delta: OutcomeDelta, now: Int64) {
        if delta.isEmpty { return }
        let period = UInt64(max(now, 0)) / 10_000_000_000
        let slot = Int(period & 1)
        let cells = counters + slot * Self.counterStride
        if cells[Self.tagOffset].load(ordering: .acquiring) != period &+ 1 {
            rotation.withLock { _ in recycle(tier: 0, slot: slot, period: period) }
        }
        for (index, count) in delta.counts.enumerated() where count != 0 {
            cells[Self.countOffset + index].wrappingAdd(count, ordering: .relaxed)
        }
        // A slot's buckets are 32 bits, like a recorder's. Beyond a billion calls in one bucket of one 10 s slice
        // (no real fleet's), the rest goes straight to the totals: they stay exact, the windows leave it out.
        var beyond: [(index: Int, count: UInt64)] = []
        for bucket in delta.buckets {
            let inSlot = Swift.min(bucket.count, Self.bulkBucketLimit)
            histogram[slot * Self.buckets + Int(bucket.index)].wrappingAdd(UInt32(inSlot), ordering: .relaxed)
            if bucket.count > inSlot { beyond.append((Int(bucket.index), bucket.count - inSlot)) }
        }
        if !beyond.isEmpty {
            rotation.withLock { _ in
                for (index, count) in beyond { retired[OutcomeTotals.outcomeCount + index] &+= count }
            }
        }
        guard let highest = delta.buckets.last else { return }
        Self.raiseMaximum(of: cells, to: UInt64(LatencyBuckets.representative(of: Int(highest.index)).rounded(.up)))
    }

    /// Reuses slot `slot` of `tier` for `period`, first merging what it holds upward.
    /// Runs under `rotation`.
    private func recycle(tier: Int, slot: Int, period: UInt64) {
        let cells = counters + (tier * Self.slotsPerTier + slot) * Self.counterStride
        let tag = cells[Self.tagOffset].load(ordering: .relaxed)
        if tag >= period &+ 1 { return }  // already current, or a straggler from an older slice
        let moved =
            tag != 0 && cells[Self.mergedOffset].load(ordering: .relaxed) == 0
            && mergeUp(tier: tier, slot: slot, period: tag - 1)
        if !moved { clear(tier * Self.slotsPerTier + slot) }
        cells[Self.mergedOffset].store(0, ordering: .relaxed)
        cells[Self.tagOffset].store(period &+ 1, ordering: .releasing)
    }

    /// Moves the slice into the tier above; false when every slice above has
    /// moved past it (too old for any window: the caller empties it).
    private func mergeUp(tier: Int, slot: Int, period: UInt64) -> Bool {
        var moved = false
        var target = tier + 1
        var targetPeriod = period
        var width = Self.widths[tier]
        while target < Self.tiers {
            targetPeriod = targetPeriod * UInt64(width) / UInt64(Self.widths[target])
            width = Self.widths[target]
            let targetSlot = Int(targetPeriod & 1)
            let targetCells = counters + (target * Self.slotsPerTier + targetSlot) * Self.counterStride
            let tag = targetCells[Self.tagOffset].load(ordering: .relaxed)
            if tag <= targetPeriod &+ 1 {
                if tag < targetPeriod &+ 1 { recycle(tier: target, slot: targetSlot, period: targetPeriod) }
                move(from: tier * Self.slotsPerTier + slot, into: target * Self.slotsPerTier + targetSlot)
                moved = true
                break
            }
            target += 1  // the slice above already moved on: try the next tier
        }
        let cells = counters + (tier * Self.slotsPerTier + slot) * Self.counterStride
        cells[Self.mergedOffset].store(1, ordering: .releasing)
        return moved
    }

    /// Adds slice `source` into `destination` and leaves `source` empty.
    ///
    /// Each cell is taken with an atomic exchange, never read then cleared: a
    /// recorder that checked the tag just before the slice was recycled may
    /// still add to it. Its outcome then lands either in what moves up or in
    /// the recycled slice (at most one slice late), but is never lost.
    private func move(from source: Int, into destination: Int) {
        let from = counters + source * Self.counterStride
        let into = counters + destination * Self.counterStride
        for i in Self.countOffset..<Self.maxOffset {
            let value = from[i].exchange(0, ordering: .relaxed)
            if value != 0 { into[i].wrappingAdd(value, ordering: .relaxed) }
        }
        let maximum = from[Self.maxOffset].exchange(0, ordering: .relaxed)
        if maximum > into[Self.maxOffset].load(ordering: .relaxed) {
            into[Self.maxOffset].store(maximum, ordering: .relaxed)
        }
        let fromBins = histogram + source * Self.buckets
        let intoBins = histogram + destination * Self.buckets
        for i in 0..<Self.buckets where fromBins[i].load(ordering: .relaxed) != 0 {
            intoBins[i].wrappingAdd(fromBins[i].exchange(0, ordering: .relaxed), ordering: .relaxed)
        }
    }

    /// Empties slice `index` (its content is older than every window) into
    /// the retired totals, cell by cell with an atomic exchange, like ``move``.
    private func clear(_ index: Int) {
        let cells = counters + index * Self.counterStride
        for i in 0..<OutcomeTotals.outcomeCount {
            retired[i] &+= cells[Self.countOffset + i].exchange(0, ordering: .relaxed)
        }
        cells[Self.maxOffset].store(0, ordering: .relaxed)
        let bins = histogram + index * Self.buckets
        let retiredBins = retired + OutcomeTotals.outcomeCount
        for i in 0..<Self.buckets where bins[i].load(ordering: .relaxed) != 0 {
            retiredBins[i] &+= UInt64(bins[i].exchange(0, ordering: .relaxed))
        }
    }

    // MARK: - Totals

    /// Every outcome recorded since the windows were made, exact, with its
    /// latency histogram: what is in the slices plus what left them. The
    /// difference of two of these is everything between them, with no time
    /// limit (``OutcomeTotals/since(_:)``). Takes the rotation lock, so
    /// nothing moves between slices while they are added up; recorders go on.
    public func totals() -> OutcomeTotals {
        rotation.withLock { _ in
            var counts = Array(UnsafeBufferPointer(start: retired, count: OutcomeTotals.outcomeCount))
            var bins = Array(UnsafeBufferPointer(start: retired + OutcomeTotals.outcomeCount, count: Self.buckets))
            for index in 0..<Self.slots {
                let cells = counters + index * Self.counterStride
                for i in 0..<OutcomeTotals.outcomeCount { counts[i] &+= cells[Self.countOffset + i].load(ordering: .relaxed) }
                let sliceBins = histogram + index * Self.buckets
                for i in 0..<Self.buckets {
                    let value = sliceBins[i].load(ordering: .relaxed)
                    if value != 0 { bins[i] &+= UInt64(value) }
                }
            }
            return OutcomeTotals(counts: counts, bins: bins)
        }
    }

    // MARK: - Reading

    /// The statistics of `window` as of instant `now`. Lock-free; computed on each call.
    public func stats(_ window: StatisticsWindow, now: Int64) -> WindowStats {
        let merged = merge(window, now: now)
        return Self.summarize(counts: merged.counts, bins: merged.bins, maximum: merged.maximum)
    }

    /// The latency histogram of a window as of `now`: calls per bucket of
    /// ``LatencyBuckets`` (weighted like ``stats(_:now:)``, so not always whole).
    /// Rank tests compare two of these bucket by bucket.
    public func latencyHistogram(_ window: StatisticsWindow, now: Int64) -> [Double] {
        merge(window, now: now).bins
    }

    private func merge(_ window: StatisticsWindow, now: Int64) -> (counts: [Double], bins: [Double], maximum: UInt64) {
        let top = window.tier
        let start = now - window.nanoseconds
        var counts = [Double](repeating: 0, count: 7)
        var bins = [Double](repeating: 0, count: Self.buckets)
        var maximum: UInt64 = 0
        for tier in 0...top {
            for slot in 0..<Self.slotsPerTier {
                let index = tier * Self.slotsPerTier + slot
                let cells = counters + index * Self.counterStride
                let tag = cells[Self.tagOffset].load(ordering: .acquiring)
                if tag == 0 { continue }
                if tier < top && cells[Self.mergedOffset].load(ordering: .acquiring) != 0 { continue }
                let width = Self.widths[tier]
                let sliceStart = Int64(tag - 1) * width
                let sliceEnd = sliceStart + width
                if sliceEnd <= start || sliceStart > now { continue }
                let weight = sliceStart >= start ? 1.0 : Double(sliceEnd - start) / Double(width)
                for i in 0..<7 {
                    counts[i] += weight * Double(cells[Self.countOffset + i].load(ordering: .relaxed))
                }
                let sliceBins = histogram + index * Self.buckets
                for i in 0..<Self.buckets {
                    let value = sliceBins[i].load(ordering: .relaxed)
                    if value != 0 { bins[i] += weight * Double(value) }
                }
                maximum = Swift.max(maximum, cells[Self.maxOffset].load(ordering: .relaxed))
            }
        }
        return (counts, bins, maximum)
    }

    static func summarize(counts: [Double], bins: [Double], maximum: UInt64) -> WindowStats {
        // Clamped: counts merged from a fleet's reports are not bounded by one process's calls, and a trap is no answer.
        func whole(_ value: Double) -> Int { Int(Swift.min(Swift.max(value.rounded(), 0), 0x1p53)) }
        let successes = whole(counts[Int(Outcome.success.rawValue)])
        let plain = whole(counts[Int(Outcome.failure.rawValue)])
        let timeouts = whole(counts[Int(Outcome.timeout.rawValue)])
        let breaker = whole(counts[Int(Outcome.rejectedByBreaker.rawValue)])
        let bulkhead = whole(counts[Int(Outcome.rejectedByBulkhead.rawValue)])
        let limiter = whole(counts[Int(Outcome.rejectedByRateLimiter.rawValue)])
        let unknown = whole(counts[Int(Outcome.unknown.rawValue)])
        let rejections = breaker + bulkhead + limiter
        let failures = plain + timeouts + rejections
        let calls = successes + failures
        let maxSeconds = Double(maximum) * 1e-9
        let total = bins.reduce(0, +)
        func percentile(_ q: Double) -> Double {
            guard total > 0 else { return 0 }
            let rank = q * total
            var cumulative = 0.0
            for (i, value) in bins.enumerated() where value > 0 {
                cumulative += value
                if cumulative >= rank {
                    return Swift.min(LatencyBuckets.representative(of: i) * 1e-9, maxSeconds)
                }
            }
            return maxSeconds
        }
        return WindowStats(
            calls: calls, successes: successes, failures: failures, timeouts: timeouts,
            rejections: rejections, breakerRejections: breaker, bulkheadRejections: bulkhead,
            rateLimiterRejections: limiter, unknown: unknown,
            errorRate: calls > 0 ? Double(failures) / Double(calls) : 0,
            p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99), max: total > 0 ? maxSeconds : 0)
    }

    /// All four windows as of `now`.
    public func allStats(now: Int64) -> [StatisticsWindow: WindowStats] {
        var result: [StatisticsWindow: WindowStats] = [:]
        for window in StatisticsWindow.allCases { result[window] = stats(window, now: now) }
        return result
    }
}
