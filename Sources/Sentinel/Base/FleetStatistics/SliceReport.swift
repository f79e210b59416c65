import Resilience

/// What one instance recorded during one slice of the fleet's clock: per
/// pipeline and side, the ``Resilience/OutcomeDelta`` between two readings
/// of its exact totals, taken at the slice's wall-clock boundaries. Only
/// streams that recorded something are listed.
///
/// Slice `k` covers the Unix seconds `[k × 10, (k + 1) × 10)`
/// (``FleetClock``): every instance cuts at the same instants, so the
/// instances' slices of one index add up to the fleet's.
public struct SliceReport: Sendable, Hashable {
    /// One stream's delta.
    public struct Entry: Sendable, Hashable {
        public let pipeline: String
        public let side: StatisticsSide
        public let delta: OutcomeDelta

        public init(pipeline: String, side: StatisticsSide, delta: OutcomeDelta) {
            self.pipeline = pipeline
            self.side = side
            self.delta = delta
        }
    }

    /// The instance that recorded it (`--instance`).
    public let instance: String
    /// The slice's index on the fleet's clock.
    public let slice: Int64
    /// The streams that recorded something, by pipeline then side.
    public let entries: [Entry]

    public init(instance: String, slice: Int64, entries: [Entry]) {
        self.instance = instance
        self.slice = slice
        func ordered(_ a: Entry, _ b: Entry) -> Bool { (a.pipeline, a.side) < (b.pipeline, b.side) }
        // Cut and decoded reports come in order already: checking is cheaper than sorting.
        let sorted = zip(entries, entries.dropFirst()).allSatisfy { !ordered($1, $0) }
        self.entries = sorted ? entries : entries.sorted(by: ordered)
    }

    /// Calls recorded, over every stream but shadows (which judge the same calls again).
    public var calls: UInt64 {
        entries.reduce(0) { total, entry in
            guard entry.side != .shadow else { return total }
            return total + Outcome.allCases.reduce(0) { $0 + ($1 == .unknown ? 0 : entry.delta.count($1)) }
        }
    }
}
