/// What one stream of outcomes recorded between two readings of its
/// ``OutcomeTotals``: the seven counts and only the latency buckets that hold
/// calls (a 10 s slice of real traffic fills a few dozen of the 458).
///
/// The unit of a fleet's statistics: each instance publishes one per stream
/// and slice, and the leader adds them up. Counts and bucket counts add, so
/// the sum of the instances' deltas is exactly what a single process would
/// have recorded with all their calls.
public struct OutcomeDelta: Sendable, Hashable {
    /// Count per ``Outcome`` (indexed by its raw value).
    public let counts: [UInt64]
    /// The buckets that hold calls, ascending, with their counts.
    public let buckets: [Bucket]

    /// One non-empty bucket of ``LatencyBuckets``.
    public struct Bucket: Sendable, Hashable {
        public let index: UInt16
        public let count: UInt64

        public init(index: UInt16, count: UInt64) {
            self.index = index
            self.count = count
        }
    }

    /// Nothing recorded.
    public static let empty = OutcomeDelta(validCounts: [UInt64](repeating: 0, count: OutcomeTotals.outcomeCount), buckets: [])

    /// A delta from its parts; nil unless there is one count per ``Outcome``
    /// and the buckets are in range, ascending, without repeats or zeros.
    public init?(counts: [UInt64], buckets: [Bucket]) {
        guard counts.count == OutcomeTotals.outcomeCount else { return nil }
        var previous = -1
        for bucket in buckets {
            guard Int(bucket.index) > previous, Int(bucket.index) < LatencyBuckets.count, bucket.count > 0 else { return nil }
            previous = Int(bucket.index)
        }
        self.init(validCounts: counts, buckets: buckets)
    }

    private init(validCounts: [UInt64], buckets: [Bucket]) {
        counts = validCounts
        self.buckets = buckets
    }

    /// True when nothing was recorded.
    public var isEmpty: Bool { buckets.isEmpty && counts.allSatisfy { $0 == 0 } }

    /// How many outcomes of one kind.
    public func count(_ outcome: Outcome) -> UInt64 { counts[Int(outcome.rawValue)] }

    /// The delta as totals (dense buckets), for reading it like a window.
    public var totals: OutcomeTotals {
        var totals = OutcomeTotals.zero
        totals.add(self)
        return totals
    }
}

extension OutcomeTotals {
    /// What was recorded after `earlier` (an earlier reading of the same
    /// windows), with only the non-empty buckets. Saturates at zero like ``since(_:)``.
    public func delta(since earlier: OutcomeTotals) -> OutcomeDelta {
        let counts = zip(counts, earlier.counts).map { $0 > $1 ? $0 - $1 : 0 }
        var buckets: [OutcomeDelta.Bucket] = []
        for index in bins.indices where bins[index] > earlier.bins[index] {
            buckets.append(OutcomeDelta.Bucket(index: UInt16(index), count: bins[index] - earlier.bins[index]))
        }
        return OutcomeDelta(counts: counts, buckets: buckets) ?? .empty
    }

    /// Adds a delta (of this stream or of another instance's).
    public mutating func add(_ delta: OutcomeDelta) {
        for index in counts.indices { counts[index] &+= delta.counts[index] }
        for bucket in delta.buckets { bins[Int(bucket.index)] &+= bucket.count }
    }
}
