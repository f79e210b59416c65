/// One stream of a pipeline's outcomes, by the names `sentinel.compare` takes:
/// its live calls, its shadow's judgements, or one traffic-split variant.
public enum StatisticsSide: Sendable, Hashable, Comparable {
    case live
    case shadow
    case variant(String)

    /// `"live"`, `"shadow"` or the variant's name.
    public var name: String {
        switch self {
        case .live: "live"
        case .shadow: "shadow"
        case .variant(let name): name
        }
    }
}
