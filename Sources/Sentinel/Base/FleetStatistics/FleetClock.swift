#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fleet's slices: 10 s of Unix time each, the same boundaries on every
/// instance, so that the instances' slices of one index merge exactly.
public enum FleetClock {
    /// A slice's length in seconds.
    public static let sliceSeconds: Int64 = 10
    /// The slices a report may name: from 1970 to about 2255 (slice × 10 s in nanoseconds stays an `Int64`).
    public static let slices: ClosedRange<Int64> = 0...900_000_000

    /// The slice that holds Unix time `seconds`.
    public static func slice(at seconds: Double) -> Int64 {
        let slice = (seconds / Double(sliceSeconds)).rounded(.down)
        return slice.isFinite ? Int64(min(max(slice, Double(slices.lowerBound)), Double(slices.upperBound))) : 0
    }

    /// When slice `slice` begins, in Unix seconds.
    public static func start(of slice: Int64) -> Double {
        Double(slice * sliceSeconds)
    }

    /// When slice `slice` begins on the windows' clock (nanoseconds).
    static func instant(of slice: Int64) -> Int64 {
        min(max(slice, slices.lowerBound), slices.upperBound) * sliceSeconds * 1_000_000_000
    }

    /// The system's real-time clock, Unix seconds: read each time, so that a
    /// step of the clock (NTP) is seen at once, unlike a start time plus a monotonic count.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
