/// The last entries printed, to print none twice: the catch-up read after a
/// reconnection and the event stream overlap by design.
///
/// Entries are compared by their canonical JSON (keys sorted); two entries of
/// identical content down to the millisecond count as one. Bounded: the
/// oldest are forgotten past `capacity`, which is more than one catch-up read
/// (at most 1,000 entries) returns.
struct RecentEntries: Sendable {
    let capacity: Int
    private var order: [String] = []
    private var next = 0
    private var members: Set<String> = []

    init(capacity: Int = 2048) {
        self.capacity = capacity
    }

    /// Remembers `key`; false when it was remembered already.
    mutating func insert(_ key: String) -> Bool {
        guard !members.contains(key) else { return false }
        if order.count < capacity {
            order.append(key)
        } else {
            members.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
        members.insert(key)
        return true
    }
}
