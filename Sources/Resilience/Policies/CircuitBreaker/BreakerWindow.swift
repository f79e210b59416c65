/// The kind and size of a breaker's sliding window.
public enum BreakerWindowKind: Sendable, Hashable {
    /// The last `n` calls.
    case count(Int)
    /// The calls of the last `n` seconds (one bucket per second).
    case time(seconds: Int)
}

/// A breaker's sliding window of outcomes, with running totals.
public struct BreakerWindow: Sendable {
    /// The window's kind and size.
    public let kind: BreakerWindowKind
    /// Calls in the window.
    public private(set) var calls = 0
    /// Failed calls in the window.
    public private(set) var failures = 0
    /// Slow calls in the window.
    public private(set) var slowCalls = 0

    // Count-based: one code per call (bit 0 failure, bit 1 slow, bit 2 present).
    private var ring: [UInt8]
    private var head = 0
    // Time-based: per-second buckets.
    private var bucketSecond: [Int64]
    private var bucketCalls: [Int32]
    private var bucketFailures: [Int32]
    private var bucketSlow: [Int32]
    private var newestSecond: Int64 = .min

    /// Makes an empty window.
    public init(_ kind: BreakerWindowKind) {
        self.kind = kind
        switch kind {
        case .count(let n):
            ring = Array(repeating: 0, count: max(1, n))
            bucketSecond = []
            bucketCalls = []
            bucketFailures = []
            bucketSlow = []
        case .time(let seconds):
            let n = max(1, seconds)
            ring = []
            bucketSecond = Array(repeating: .min, count: n)
            bucketCalls = Array(repeating: 0, count: n)
            bucketFailures = Array(repeating: 0, count: n)
            bucketSlow = Array(repeating: 0, count: n)
        }
    }

    /// Failure rate in `0...1` (0 when empty).
    @inlinable public var failureRate: Double { calls > 0 ? Double(failures) / Double(calls) : 0 }
    /// Slow-call rate in `0...1` (0 when empty).
    @inlinable public var slowCallRate: Double { calls > 0 ? Double(slowCalls) / Double(calls) : 0 }

    /// Adds one call's outcome.
    public mutating func add(failure: Bool, slow: Bool, now: Int64) {
        switch kind {
        case .count:
            let old = ring[head]
            if old & 4 != 0 {
                calls -= 1
                if old & 1 != 0 { failures -= 1 }
                if old & 2 != 0 { slowCalls -= 1 }
            }
            ring[head] = 4 | (failure ? 1 : 0) | (slow ? 2 : 0)
            head = head + 1 == ring.count ? 0 : head + 1
        case .time:
            let second = now / 1_000_000_000
            expire(second: second)
            let slot = Int(second % Int64(bucketSecond.count))
            if bucketSecond[slot] != second {
                bucketSecond[slot] = second
                bucketCalls[slot] = 0
                bucketFailures[slot] = 0
                bucketSlow[slot] = 0
            }
            bucketCalls[slot] += 1
            if failure { bucketFailures[slot] += 1 }
            if slow { bucketSlow[slot] += 1 }
        }
        calls += 1
        if failure { failures += 1 }
        if slow { slowCalls += 1 }
    }

    /// Drops buckets older than the window (time-based windows only).
    public mutating func expire(now: Int64) {
        if case .time = kind { expire(second: now / 1_000_000_000) }
    }

    private mutating func expire(second: Int64) {
        guard second > newestSecond else { return }
        let n = Int64(bucketSecond.count)
        let oldest = second - n + 1
        if newestSecond == .min || second - newestSecond >= n {
            for i in bucketSecond.indices where bucketSecond[i] != .min && bucketSecond[i] < oldest {
                drop(i)
            }
        } else {
            var s = newestSecond + 1
            while s <= second {
                let slot = Int(s % n)
                if bucketSecond[slot] != .min && bucketSecond[slot] < oldest { drop(slot) }
                s += 1
            }
        }
        newestSecond = second
    }

    private mutating func drop(_ slot: Int) {
        calls -= Int(bucketCalls[slot])
        failures -= Int(bucketFailures[slot])
        slowCalls -= Int(bucketSlow[slot])
        bucketSecond[slot] = .min
        bucketCalls[slot] = 0
        bucketFailures[slot] = 0
        bucketSlow[slot] = 0
    }

    /// Empties the window.
    public mutating func reset() {
        self = BreakerWindow(kind)
    }
}
