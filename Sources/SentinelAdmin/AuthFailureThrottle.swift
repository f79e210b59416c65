import Resilience

/// Slows down repeated authentication failures: the first `free` in a
/// minute are answered at once, each further one a second later per
/// failure over the allowance, at most five seconds. Valid tokens are never
/// delayed.
struct AuthFailureThrottle: Sendable {
    private let failures = Locked<[Int64]>([])
    let free: Int

    init(freePerMinute: Int) { free = freePerMinute }

    /// Records a failure at `now` (nanoseconds, monotonic) and returns how long to wait before answering.
    func delayAfterFailure(now: Int64) -> Duration {
        let recent = failures.withLock { failures -> Int in
            failures.removeAll { now - $0 > 60_000_000_000 }
            // Bounded memory under a flood: the count saturates, the delay too.
            if failures.count >= 10_000 { failures.removeFirst() }
            failures.append(now)
            return failures.count
        }
        guard recent > free else { return .zero }
        return .seconds(min(5, recent - free))
    }
}
