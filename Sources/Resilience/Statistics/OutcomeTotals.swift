/// Outcome counts and a latency histogram accumulated with no time limit:
/// everything one ``OutcomeWindows`` recorded since it was made
/// (``OutcomeWindows/totals()``), or, as the difference of two of those,
/// everything between two instants (``since(_:)``). Sequential tests judge a
/// canary step on all its data since the step began, not on the last minutes.
///
/// Constant size (7 counts and ``LatencyBuckets/count`` buckets), exact
/// (whole numbers, no weighting), and free on the recording path: the
/// windows keep it from the slices they already hold.
public struct OutcomeTotals: Sendable, Hashable {
    static let outcomeCount = Outcome.allCases.count

    /// Count per ``Outcome`` (indexed by its raw value).
    public internal(set) var counts: [UInt64]
    /// Calls per bucket of ``LatencyBuckets`` (every outcome but `unknown`).
    public internal(set) var bins: [UInt64]

    /// Nothing recorded.
    public static let zero = OutcomeTotals(
        counts: [UInt64](repeating: 0, count: outcomeCount), bins: [UInt64](repeating: 0, count: LatencyBuckets.count))

    init(counts: [UInt64], bins: [UInt64]) {
        self.counts = counts
        self.bins = bins
    }

    /// How many outcomes of one kind.
    public func count(_ outcome: Outcome) -> UInt64 { counts[Int(outcome.rawValue)] }

    /// What was recorded after `earlier` (an earlier ``OutcomeWindows/totals()``
    /// of the same windows). Saturates at zero: a reading from other windows
    /// cannot make a count negative.
    public func since(_ earlier: OutcomeTotals) -> OutcomeTotals {
        OutcomeTotals(
            counts: zip(counts, earlier.counts).map { $0 > $1 ? $0 - $1 : 0 },
            bins: zip(bins, earlier.bins).map { $0 > $1 ? $0 - $1 : 0 })
    }

    /// The sum of two totals (of two instances, say).
    public func adding(_ other: OutcomeTotals) -> OutcomeTotals {
        OutcomeTotals(counts: zip(counts, other.counts).map { $0 &+ $1 }, bins: zip(bins, other.bins).map { $0 &+ $1 })
    }

    /// The fields scripts read, as for a window. Percentiles are bucket
    /// midpoints like the windows'; `max` is the midpoint of the highest
    /// bucket that holds a call (an exact maximum cannot be subtracted).
    public var stats: WindowStats {
        let highest = bins.lastIndex { $0 != 0 }
        let maximum = highest.map { UInt64(LatencyBuckets.representative(of: $0).rounded(.up)) } ?? 0
        return OutcomeWindows.summarize(counts: counts.map { Double($0) }, bins: latencyHistogram, maximum: maximum)
    }

    /// The histogram as the judge's rank and tail tests read it.
    public var latencyHistogram: [Double] { bins.map { Double($0) } }
}
