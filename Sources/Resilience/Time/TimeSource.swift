#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of time for policies, in nanoseconds since the source's own origin.
///
/// Policy cores take time as an explicit `Int64` count of nanoseconds (an
/// *instant*), so the simulator can drive them on virtual time. The async
/// shells read instants from a `TimeSource` once per call edge and sleep on it.
public protocol TimeSource: Sendable {
    /// The current instant, in nanoseconds since this source's origin.
    func now() -> Int64
    /// Suspends until the given instant; throws `CancellationError` when the task is cancelled.
    func sleep(until instant: Int64) async throws
}

/// A `TimeSource` backed by any `Clock` whose durations are `Duration`.
///
/// The origin is the clock's instant when the source was made. For
/// `ContinuousClock`, prefer ``MonotonicTimeSource``, which reads the time
/// faster.
public struct ClockTimeSource<C: Clock>: TimeSource where C.Duration == Duration {
    /// The wrapped clock.
    public let clock: C
    /// The clock instant that maps to nanosecond `0`.
    public let origin: C.Instant

    /// Makes a time source whose origin is the clock's current instant.
    public init(_ clock: C) {
        self.clock = clock
        self.origin = clock.now
    }

    /// The current instant in nanoseconds since `origin`.
    public func now() -> Int64 {
        origin.duration(to: clock.now).nanosecondsClamped
    }

    /// Sleeps on the wrapped clock until `instant`.
    public func sleep(until instant: Int64) async throws {
        try await clock.sleep(until: origin.advanced(by: .nanoseconds(instant)), tolerance: nil)
    }
}

/// The production time source: reads `CLOCK_MONOTONIC` directly (cheaper than
/// `ContinuousClock.now`) and sleeps on `ContinuousClock`.
public struct MonotonicTimeSource: TimeSource {
    private let originNanos: Int64

    /// Makes a time source whose origin is now.
    public init() {
        originNanos = Self.rawNanos()
    }

    @inline(__always)
    /// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`), from an unspecified origin.
    public static func rawNanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
    }

    /// The current instant in nanoseconds since this source was made.
    @inline(__always)
    public func now() -> Int64 {
        Self.rawNanos() &- originNanos
    }

    /// Sleeps on `ContinuousClock` for the time left until `instant`.
    public func sleep(until instant: Int64) async throws {
        let remaining = instant - now()
        if remaining <= 0 {
            try Task.checkCancellation()
            return
        }
        try await ContinuousClock().sleep(for: .nanoseconds(remaining))
    }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to the range of `Int64`.
    @inlinable
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        if seconds >= 9_223_372_036 { return .max }
        if seconds <= -9_223_372_036 { return .min }
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    /// This duration in seconds as a `Double`.
    @inlinable
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Makes a duration from a number of seconds; non-finite or negative values give zero.
    @inlinable
    public static func secondsClamped(_ value: Double) -> Duration {
        guard value.isFinite, value > 0 else { return .zero }
        return .nanoseconds(Int64(min(value * 1e9, 9.2e18)))
    }
}

/// Converts seconds (as knobs hold them) to nanoseconds, clamped to `Int64`.
@inline(__always)
func nanos(fromSeconds seconds: Double) -> Int64 {
    guard seconds.isFinite, seconds > 0 else { return 0 }
    let value = seconds * 1e9
    return value >= 9.2e18 ? Int64.max / 2 : Int64(value)
}

/// Converts nanoseconds to seconds.
@inline(__always)
func seconds(fromNanos nanos: Int64) -> Double {
    Double(nanos) * 1e-9
}
