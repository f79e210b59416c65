import Logging
import Metrics
import Resilience

/// The audit log: every decision the control plane makes, kept in a bounded
/// in-memory ring and written to zero or more sinks (usually an
/// ``AuditFileSink``).
///
/// ```swift
/// let file = try AuditFileSink(.init(path: "/var/log/sentinel/audit.jsonl"))
/// let audit = AuditLog(sinks: [file])
/// audit.append(AuditEntry(time: now, actor: "operator:ana", action: "automation.freeze", outcome: .applied))
/// audit.recent(20)                                     // the newest 20, oldest first
/// audit.entries(matching: AuditQuery(outcomes: [.denied]))
/// audit.flush()                                        // on shutdown, before close()
/// ```
///
/// **Memory.** The ring keeps the newest ``capacity`` entries (10,000 by
/// default); older ones leave memory (a file sink has them). Each sink has a
/// pending queue of at most ``pendingCapacity`` entries. Nothing grows without
/// bound.
///
/// **Failures never reach the caller.** ``append(_:)`` does not throw or block
/// on retries. When a sink fails (a full disk), the entry waits in that sink's
/// pending queue and is offered again, in order and before any newer entry, on
/// the next append or ``flush()``. When the queue is full, newer entries are
/// dropped for that sink, counted in ``droppedEntries``, logged, and once the
/// sink works again it receives an `audit.dropped` entry saying how many
/// entries it is missing and from when to when. Every failure is counted
/// (``sinkFailures``), kept as ``lastError``, logged through swift-log and
/// reported through swift-metrics.
///
/// **Order.** Appends are serialized: sinks see entries in the ring's order.
/// Reads (``recent(_:)``, queries, counters) never wait for a sink.
///
/// Metrics: `sentinel_audit_entries_total` (dimension `outcome`),
/// `sentinel_audit_sink_failures_total`, `sentinel_audit_dropped_entries_total`,
/// and the gauge `sentinel_audit_pending_entries`.
public final class AuditLog: Sendable {
    /// The number of entries kept in memory unless told otherwise.
    public static let defaultCapacity = 10_000
    /// The number of entries a failing sink may hold for retry unless told otherwise.
    public static let defaultPendingCapacity = 10_000

    /// The number of entries kept in memory.
    public let capacity: Int
    /// The number of entries each sink may hold for retry while it fails.
    public let pendingCapacity: Int

    private let ring: Locked<Ring>
    /// Held for a whole append, so sinks receive entries in ring order.
    private let delivery: Locked<Delivery>
    private let health = Locked(Health())
    private let hasSinks: Bool
    /// Readers of ``subscribe(buffer:)``: each appended entry is yielded to them.
    private let subscribers = Broadcast<AuditEntry>()
    private let logger: Logger?
    private let outcomeCounters: [Counter]
    private let failureCounter = Counter(label: "sentinel_audit_sink_failures_total")
    private let droppedCounter = Counter(label: "sentinel_audit_dropped_entries_total")
    private let pendingGauge = Gauge(label: "sentinel_audit_pending_entries")

    /// Makes a log.
    ///
    /// - Parameters:
    ///   - capacity: entries kept in memory (at least 1).
    ///   - sinks: where entries are written, in this order, besides memory.
    ///   - pendingCapacity: entries each failing sink may hold for retry (at least 0).
    ///   - logger: where failures are logged; without one they are only
    ///     counted (``statistics``, metrics) and kept as ``lastError``.
    public init(
        capacity: Int = AuditLog.defaultCapacity, sinks: [any AuditSink] = [],
        pendingCapacity: Int = AuditLog.defaultPendingCapacity, logger: Logger? = nil
    ) {
        self.capacity = max(1, capacity)
        self.pendingCapacity = max(0, pendingCapacity)
        ring = Locked(Ring(capacity: max(1, capacity)))
        delivery = Locked(Delivery(slots: sinks.map { SinkSlot(sink: $0, name: String(describing: $0)) }))
        hasSinks = !sinks.isEmpty
        self.logger = logger
        outcomeCounters = AuditOutcome.allCases.map {
            Counter(label: "sentinel_audit_entries_total", dimensions: [("outcome", $0.rawValue)])
        }
    }

    // MARK: - Appending

    /// Records an entry: in memory at once, then in every sink (or in a sink's
    /// pending queue when it fails). Never throws, never crashes.
    public func append(_ entry: AuditEntry) {
        outcomeCounters[entry.outcome.index].increment()
        defer { publish(entry) }
        guard hasSinks else {
            ring.withLock { $0.append(entry) }
            return
        }
        delivery.withLock { delivery in
            ring.withLock { $0.append(entry) }
            for index in delivery.slots.indices {
                if delivery.closed {
                    drop(entry, from: &delivery.slots[index], because: "the audit log is closed")
                } else {
                    deliver(entry, to: &delivery.slots[index])
                }
            }
            publishPending(delivery)
        }
    }

    /// Retries every pending entry, then flushes every sink (for a file sink:
    /// `fsync`). Failures are counted and logged, not thrown.
    public func flush() {
        guard hasSinks else { return }
        delivery.withLock { delivery in
            guard !delivery.closed else { return }
            for index in delivery.slots.indices where drainPending(&delivery.slots[index]) {
                do {
                    try delivery.slots[index].sink.flush()
                } catch {
                    recordFailure(of: "flush", error, in: &delivery.slots[index])
                }
            }
            publishPending(delivery)
        }
    }

    /// Flushes, then closes every sink. Entries still pending then (the sink
    /// kept failing) are counted as dropped. Entries appended later stay in
    /// memory only, and are counted as dropped for every sink.
    public func close() {
        flush()
        guard hasSinks else { return }
        delivery.withLock { delivery in
            guard !delivery.closed else { return }
            delivery.closed = true
            for index in delivery.slots.indices {
                for entry in delivery.slots[index].pending {
                    drop(entry, from: &delivery.slots[index], because: "the audit log closed while it was pending")
                }
                delivery.slots[index].pending.removeAll()
                if let gap = delivery.slots[index].dropped {
                    noteAtClose(gap, in: &delivery.slots[index])
                }
                do {
                    try delivery.slots[index].sink.close()
                } catch {
                    recordFailure(of: "close", error, in: &delivery.slots[index])
                }
            }
            publishPending(delivery)
        }
    }

    /// Hands a sink the note about entries it never got, for its next start.
    private func noteAtClose(_ gap: DroppedRange, in slot: inout SinkSlot) {
        var loss = AuditLoss(sink: slot.name, count: gap.count, first: gap.first, last: gap.last, noted: false)
        var note = gap.entry(sink: slot.name)
        note.reason = (note.reason ?? "") + "; the process stopped before they could be written"
        do {
            loss.noted = try slot.sink.noteUndelivered(note)
            if loss.noted { slot.dropped = nil }
        } catch {
            loss.noteError = "\(error)"
        }
        health.withLock { $0.lostAtClose.append(loss) }
    }

    /// What each sink never got when the log closed (empty when nothing was
    /// lost): for the shutdown message.
    public var lostAtClose: [AuditLoss] { health.withLock { $0.lostAtClose } }

    // MARK: - Subscribing

    /// Every entry appended from now on, as it is appended; the newest
    /// `buffer` are kept for a slow reader (older ones are skipped for it,
    /// never for the sinks).
    public func subscribe(buffer: Int = 1024) -> AsyncStream<AuditEntry> {
        subscribe(buffer: buffer, overflow: nil)
    }

    /// Every entry appended from now on; the newest `buffer` are kept for a
    /// slow reader, and `overflow` is called (by the appender, at once) with
    /// each older one the reader will not see.
    package func subscribe(buffer: Int, overflow: (@Sendable (AuditEntry) -> Void)?) -> AsyncStream<AuditEntry> {
        subscribers.subscribe(buffer: buffer, overflow: overflow)
    }

    private func publish(_ entry: AuditEntry) {
        subscribers.publish(entry)
    }

    // MARK: - Reading

    /// The newest `count` entries, oldest first.
    public func recent(_ count: Int) -> [AuditEntry] {
        ring.withLock { $0.newest(count) }
    }

    /// The newest entry.
    public var last: AuditEntry? {
        ring.withLock { $0.newest(1).first }
    }

    /// Every entry in memory, oldest first.
    public var entries: [AuditEntry] {
        ring.withLock { $0.newest($0.count) }
    }

    /// The entries in memory that match `query`, oldest first (the newest
    /// `query.limit` of them when a limit is set).
    public func entries(matching query: AuditQuery) -> [AuditEntry] {
        ring.withLock { ring in
            var matched = ring.newest(ring.count).filter(query.matches)
            if let limit = query.limit, matched.count > limit { matched.removeFirst(matched.count - max(0, limit)) }
            return matched
        }
    }

    /// The entries in memory for which `predicate` is true, oldest first.
    ///
    /// The predicate runs on a copy, outside the log's lock, so it may call the log.
    public func entries(where predicate: (AuditEntry) throws -> Bool) rethrows -> [AuditEntry] {
        try entries.filter(predicate)
    }

    /// Entries appended since the log was made with this outcome (including
    /// those that have left the ring).
    public func count(of outcome: AuditOutcome) -> Int {
        ring.withLock { $0.byOutcome[outcome.index] }
    }

    /// Failed sink calls so far; see ``AuditStatistics/sinkFailures``.
    public var sinkFailures: Int { health.withLock { $0.sinkFailures } }

    /// Entries some sink will never get; see ``AuditStatistics/droppedEntries``.
    public var droppedEntries: Int { health.withLock { $0.droppedEntries } }

    /// The most recent sink failure.
    public var lastError: AuditSinkFailure? { health.withLock { $0.lastError } }

    /// All counters at once.
    public var statistics: AuditStatistics {
        let (appended, retained, byOutcome) = ring.withLock { ($0.appended, $0.count, $0.byOutcome) }
        let health = health.withLock { $0 }
        var outcomes: [AuditOutcome: Int] = [:]
        for outcome in AuditOutcome.allCases { outcomes[outcome] = byOutcome[outcome.index] }
        return AuditStatistics(
            appended: appended, retained: retained, byOutcome: outcomes, sinkFailures: health.sinkFailures,
            droppedEntries: health.droppedEntries, pendingEntries: health.pendingEntries, lastError: health.lastError)
    }

    // MARK: - Delivery (called with the delivery lock held)

    private func deliver(_ entry: AuditEntry, to slot: inout SinkSlot) {
        guard drainPending(&slot) else { return enqueue(entry, in: &slot) }
        do {
            try slot.sink.write(entry)
        } catch {
            recordFailure(of: "write", error, in: &slot)
            enqueue(entry, in: &slot)
        }
    }

    /// Writes the pending entries in order, then the note about dropped ones.
    /// Returns false when the sink failed again (what is left stays pending).
    private func drainPending(_ slot: inout SinkSlot) -> Bool {
        // The common case: a healthy sink with nothing waiting.
        if slot.pending.isEmpty, slot.dropped == nil, !slot.failing { return true }
        var written = 0
        while written < slot.pending.count {
            do {
                try slot.sink.write(slot.pending[written])
                written += 1
            } catch {
                slot.pending.removeFirst(written)
                recordFailure(of: "write", error, in: &slot)
                return false
            }
        }
        slot.pending.removeAll(keepingCapacity: false)
        if let gap = slot.dropped {
            do {
                try slot.sink.write(gap.entry(sink: slot.name))
                slot.dropped = nil
            } catch {
                recordFailure(of: "write", error, in: &slot)
                return false
            }
        }
        if slot.failing {
            slot.failing = false
            logger?.notice(
                "audit sink recovered",
                metadata: ["sink": "\(slot.name)", "written_from_pending": "\(written)"])
        }
        return true
    }

    private func enqueue(_ entry: AuditEntry, in slot: inout SinkSlot) {
        if slot.pending.count < pendingCapacity {
            slot.pending.append(entry)
        } else {
            drop(entry, from: &slot, because: "its pending queue is full (\(pendingCapacity) entries)")
        }
    }

    private func drop(_ entry: AuditEntry, from slot: inout SinkSlot, because why: String) {
        health.withLock { $0.droppedEntries += 1 }
        droppedCounter.increment()
        if slot.dropped == nil {
            slot.dropped = DroppedRange(count: 0, first: entry.time, last: entry.time, why: why)
            // Once per gap: a full disk must not also flood the log.
            logger?.error(
                "audit entries are being dropped for a sink; they stay in memory only",
                metadata: ["sink": "\(slot.name)", "reason": "\(why)", "first_action": "\(entry.action)"])
        }
        guard var range = slot.dropped else { return }
        range.count += 1
        // Pending entries dropped at close are older than the ones dropped before.
        range.first = min(range.first, entry.time)
        range.last = max(range.last, entry.time)
        slot.dropped = range
    }

    private func recordFailure(of operation: String, _ error: any Error, in slot: inout SinkSlot) {
        let failure = AuditSinkFailure(sink: slot.name, operation: operation, message: "\(error)")
        health.withLock {
            $0.sinkFailures += 1
            $0.lastError = failure
        }
        failureCounter.increment()
        if !slot.failing {
            slot.failing = true
            // Once per failure episode; recovery is logged too.
            logger?.error(
                "audit sink failed; entries are kept in memory and retried",
                metadata: ["sink": "\(slot.name)", "operation": "\(operation)", "error": "\(error)"])
        }
    }

    private func publishPending(_ delivery: Delivery) {
        let pending = delivery.slots.reduce(0) { $0 + $1.pending.count }
        let changed = health.withLock { health in
            defer { health.pendingEntries = pending }
            return health.pendingEntries != pending
        }
        if changed { pendingGauge.record(pending) }
    }
}

// MARK: - Storage

extension AuditLog {
    /// A fixed-size circular buffer of the newest entries.
    private struct Ring {
        let capacity: Int
        var storage: [AuditEntry] = []
        /// Where the next entry goes once the buffer is full (also the oldest).
        var next = 0
        var appended = 0
        var byOutcome = [Int](repeating: 0, count: AuditOutcome.allCases.count)

        init(capacity: Int) {
            self.capacity = capacity
            storage.reserveCapacity(min(capacity, 1024))
        }

        var count: Int { storage.count }

        mutating func append(_ entry: AuditEntry) {
            appended += 1
            byOutcome[entry.outcome.index] += 1
            if storage.count < capacity {
                storage.append(entry)
            } else {
                storage[next] = entry
                next = (next + 1) % capacity
            }
        }

        /// The newest `count` entries, oldest first.
        func newest(_ count: Int) -> [AuditEntry] {
            let wanted = min(max(0, count), storage.count)
            guard wanted > 0 else { return [] }
            // Position k (0 = oldest) lives at (next + k) % storage.count once full, at k before.
            let oldest = storage.count - wanted
            var result: [AuditEntry] = []
            result.reserveCapacity(wanted)
            for position in oldest..<storage.count {
                result.append(storage[(next + position) % storage.count])
            }
            return result
        }
    }

    private struct Delivery {
        var slots: [SinkSlot]
        var closed = false
    }

    /// One sink with its retry queue.
    private struct SinkSlot {
        let sink: any AuditSink
        let name: String
        var pending: [AuditEntry] = []
        /// Entries this sink will never get, not yet reported to it.
        var dropped: DroppedRange?
        /// Between a failure and the next success; failures are logged once per episode.
        var failing = false
    }

    /// A run of entries dropped for one sink.
    private struct DroppedRange {
        var count: Int
        var first: Double
        var last: Double
        var why: String

        /// The note written to the sink once it works again, so its own record
        /// says that it has a gap.
        func entry(sink: String) -> AuditEntry {
            AuditEntry(
                time: last, actor: "sentinel", action: "audit.dropped", target: sink,
                args: [
                    "count": .int(Int64(count)),
                    "first_time": .string(RFC3339.string(fromUnixSeconds: first)),
                    "last_time": .string(RFC3339.string(fromUnixSeconds: last)),
                ],
                outcome: .failed,
                reason: "\(count) audit entries were not written to this sink because \(why); the in-memory log may still hold them")
        }
    }

    private struct Health {
        var sinkFailures = 0
        var droppedEntries = 0
        var pendingEntries = 0
        var lastError: AuditSinkFailure?
        var lostAtClose: [AuditLoss] = []
    }
}

extension AuditOutcome {
    /// A dense index for per-outcome counters.
    fileprivate var index: Int {
        switch self {
        case .applied: 0
        case .denied: 1
        case .rejected: 2
        case .failed: 3
        case .dryRun: 4
        }
    }
}
