import Synchronization

/// Limits retries to a fraction of calls, so that retries cannot turn an
/// outage into a storm (as Envoy's and Finagle's retry budgets do).
///
/// Every call deposits `ratio` tokens; every retry withdraws one. The balance
/// starts at `reserve` (so a quiet service can still retry) and is capped at
/// `capacity`. Lock-free: one atomic add per call and one compare-exchange
/// per retry.
public final class RetryBudget: Sendable {
    private static let scale: Double = 1000
    private let balance: Atomic<Int64>
    /// Largest balance, in tokens.
    public let capacity: Double

    /// Makes a budget holding `reserve` tokens, capped at `capacity`.
    public init(reserve: Double = 10, capacity: Double = 100) {
        self.capacity = max(capacity, reserve)
        balance = Atomic(Int64(reserve * Self.scale))
    }

    /// Tokens available now.
    public var tokens: Double { Double(balance.load(ordering: .relaxed)) / Self.scale }

    /// Credits one call at `ratio` tokens (capped at `capacity`).
    @inline(__always)
    public func deposit(ratio: Double) {
        let amount = Int64(max(0, ratio) * Self.scale)
        if amount == 0 { return }
        let cap = Int64(capacity * Self.scale)
        let after = balance.wrappingAdd(amount, ordering: .relaxed).newValue
        if after > cap {
            // Trim the excess; a concurrent withdrawal may make this slightly generous, never negative.
            balance.wrappingSubtract(min(after - cap, amount), ordering: .relaxed)
        }
    }

    /// Takes one token for a retry; `false` when the budget is spent.
    public func withdraw() -> Bool {
        var current = balance.load(ordering: .relaxed)
        while current >= Int64(Self.scale) {
            let (done, seen) = balance.compareExchange(expected: current, desired: current - Int64(Self.scale), ordering: .relaxed)
            if done { return true }
            current = seen
        }
        return false
    }
}
