/// Snapshots a ``KnobTable`` replaced, kept alive through their grace period
/// (a reader may have loaded one just before the swap and not yet retained
/// it), oldest first.
///
/// A queue, not an array trimmed from the front: releasing the oldest costs
/// O(1) amortized however many changes arrived within the grace period (an
/// array's `removeFirst` moved every younger entry on each change).
struct RetiredSnapshots {
    private struct Retired {
        var snapshot: KnobSnapshot
        var retiredAt: ContinuousClock.Instant
    }

    private var items: [Retired?] = []
    private var head = 0

    /// Snapshots still held.
    var count: Int { items.count - head }

    mutating func append(_ snapshot: KnobSnapshot, at now: ContinuousClock.Instant) {
        items.append(Retired(snapshot: snapshot, retiredAt: now))
    }

    /// Releases the oldest snapshots retired more than `grace` before `now`,
    /// always keeping the newest `keep`.
    mutating func release(olderThan grace: Duration, keeping keep: Int, now: ContinuousClock.Instant) {
        while count > keep, let oldest = items[head], now - oldest.retiredAt > grace {
            items[head] = nil
            head += 1
        }
        // Compacts once the released prefix is half of the storage: amortized O(1).
        if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
