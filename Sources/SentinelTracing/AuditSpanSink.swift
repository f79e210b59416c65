import Resilience
import Sentinel
import Tracing

/// An audit sink that turns the sentinel's decisions into spans: each audit
/// entry becomes an event on a `sentinel` span.
///
/// The entries of one script evaluation (same `script:NAME` actor, same
/// correlation id) share one span, from the first decision to the last, so a
/// trace viewer shows one span per evaluation that decided something, its
/// decisions in order as events. Every other entry (an operator's command,
/// a script load or reload, an automatic trial promotion or rollback) is a
/// span of its own with one event. Spans are root spans: a decision belongs
/// to no request.
///
/// An evaluation's span ends when the log is flushed (the ``Sentinel``
/// service flushes after every round that evaluated scripts), when the same
/// script's next evaluation writes, when more than
/// ``Configuration-swift.struct/maximumOpenSpans`` are open (the oldest
/// ends), after ``Configuration-swift.struct/maximumEventsPerSpan`` events
/// (later ones open a new span), or when the log closes. Its end time is
/// its last decision's time.
///
/// ```swift
/// let audit = AuditLog(sinks: [try AuditFileSink(.init(path: "audit.jsonl")), AuditSpanSink()], logger: logger)
/// let plane = ControlPlane(registry: registry, audit: audit)
/// let sentinel = Sentinel(plane: plane, configuration: .init(folders: ["policies"]), logger: logger)
/// ```
///
/// Without an active tracer, ``write(_:)`` returns after one look-up of the
/// tracer. It never throws: the audit never waits on tracing.
public final class AuditSpanSink: AuditSink, Sendable {
    /// How the spans are made.
    public let configuration: Configuration
    private let state = Locked(State())

    /// Makes a sink; add it to the ``Sentinel/AuditLog``'s sinks.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Adds `entry` as an event to its span.
    public func write(_ entry: AuditEntry) {
        guard let tracer = ActiveTracer.find(configuration.tracer) else { return }
        // Spans start and get their events under the lock (the order of an evaluation's
        // decisions); the ones this entry closes end after it, so an exporter's work on
        // ending them holds neither this sink nor the audit log's delivery longer than that.
        let ended = state.withLock { state -> [OpenBatch] in
            guard let key = Self.batchKey(of: entry) else {
                var batch = OpenBatch(start(tracer, for: entry), entry)
                add(entry, to: &batch)
                return [batch]
            }
            var ended: [OpenBatch] = []
            if let previous = state.keyByActor[entry.actor], previous != key, let batch = state.remove(previous) {
                ended.append(batch)
            }
            var batch = state.remove(key) ?? OpenBatch(start(tracer, for: entry), entry)
            add(entry, to: &batch)
            if batch.decisions >= configuration.maximumEventsPerSpan {
                ended.append(batch)
                return ended
            }
            state.insert(batch, key: key, actor: entry.actor)
            while state.order.count > max(0, configuration.maximumOpenSpans), let batch = state.remove(state.order[0]) {
                ended.append(batch)
            }
            return ended
        }
        for batch in ended { end(batch) }
    }

    /// Ends every open evaluation span.
    public func flush() {
        let open = state.withLock { $0.removeAll() }
        for batch in open { end(batch) }
    }

    /// Ends every open evaluation span.
    public func close() { flush() }

    /// The number of evaluation spans open now.
    public var openSpans: Int { state.withLock { $0.order.count } }

    // MARK: - Spans

    /// Entries of one script evaluation share its correlation id.
    private static func batchKey(of entry: AuditEntry) -> String? {
        guard let id = entry.correlationID, entry.actor.hasPrefix("script:") else { return nil }
        return id
    }

    private func start(_ tracer: any Tracer, for entry: AuditEntry) -> any Span {
        let span = tracer.startSpan(
            configuration.spanName, context: .topLevel, ofKind: .internal, at: Self.instant(entry.time))
        span.updateAttributes { attributes in
            attributes[SentinelSpanAttribute.actor] = entry.actor
            if entry.actor.hasPrefix("script:") {
                attributes[SentinelSpanAttribute.script] = String(entry.actor.dropFirst("script:".count))
            }
            if let id = entry.correlationID { attributes[SentinelSpanAttribute.correlationID] = id }
        }
        return span
    }

    private func add(_ entry: AuditEntry, to batch: inout OpenBatch) {
        batch.decisions += 1
        batch.last = entry.time
        batch.outcomes[entry.outcome, default: 0] += 1
        batch.span.addEvent(
            SpanEvent(name: entry.action, at: Self.instant(entry.time), attributes: entry.spanEventAttributes(configuration)))
    }

    private func end(_ batch: OpenBatch) {
        let span = batch.span
        span.updateAttributes { attributes in
            attributes[SentinelSpanAttribute.decisions] = batch.decisions
            for (outcome, count) in batch.outcomes { attributes[SentinelSpanAttribute.count(of: outcome)] = count }
        }
        if let failed = batch.outcomes[.failed], failed > 0 {
            span.setStatus(SpanStatus(code: .error, message: "\(failed) of \(batch.decisions) decisions failed"))
        }
        span.end(at: Self.instant(max(batch.first, batch.last)))
    }

    /// Audit times are Unix seconds (virtual in `simulate`).
    static func instant(_ seconds: Double) -> DefaultTracerClock.Timestamp {
        let nanoseconds = seconds.isFinite && seconds > 0 ? UInt64(clamping: Int64(min(seconds * 1e9, 9.2e18))) : 0
        return DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: nanoseconds)
    }

    // MARK: - State

    /// An evaluation's span while its decisions arrive.
    struct OpenBatch: Sendable {
        let span: any Span
        let first: Double
        var last: Double
        var decisions = 0
        var outcomes: [AuditOutcome: Int] = [:]

        init(_ span: any Span, _ entry: AuditEntry) {
            self.span = span
            first = entry.time
            last = entry.time
        }
    }

    /// The open evaluation spans, oldest first.
    struct State: Sendable {
        var open: [String: OpenBatch] = [:]
        var order: [String] = []
        var keyByActor: [String: String] = [:]

        mutating func insert(_ batch: OpenBatch, key: String, actor: String) {
            if open.updateValue(batch, forKey: key) == nil { order.append(key) }
            keyByActor[actor] = key
        }

        mutating func remove(_ key: String) -> OpenBatch? {
            guard let batch = open.removeValue(forKey: key) else { return nil }
            order.removeAll { $0 == key }
            if let actor = keyByActor.first(where: { $0.value == key })?.key { keyByActor[actor] = nil }
            return batch
        }

        mutating func removeAll() -> [OpenBatch] {
            defer {
                open = [:]
                order = []
                keyByActor = [:]
            }
            return order.compactMap { open[$0] }
        }
    }
}
