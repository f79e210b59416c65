/// The windows every pipeline keeps: the last 10 seconds, minute, 5 and 15 minutes.
public enum StatisticsWindow: String, Sendable, Hashable, CaseIterable {
    /// The last 10 seconds.
    case tenSeconds = "10s"
    /// The last minute.
    case oneMinute = "1m"
    /// The last 5 minutes.
    case fiveMinutes = "5m"
    /// The last 15 minutes.
    case fifteenMinutes = "15m"

    /// The window's length in nanoseconds.
    public var nanoseconds: Int64 {
        switch self {
        case .tenSeconds: 10_000_000_000
        case .oneMinute: 60_000_000_000
        case .fiveMinutes: 300_000_000_000
        case .fifteenMinutes: 900_000_000_000
        }
    }

    var tier: Int {
        switch self {
        case .tenSeconds: 0
        case .oneMinute: 1
        case .fiveMinutes: 2
        case .fifteenMinutes: 3
        }
    }
}
