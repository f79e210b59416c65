import Resilience

/// An alert sink that hands every alert to its subscribers (the admin API's
/// event stream) and to the sink it wraps (a file, a pager).
///
/// ```swift
/// let alerts = AlertBroadcaster(forwardingTo: try JSONLinesAlertSink(path: "alerts.jsonl"))
/// let runtime = SentinelRuntime(plane: plane, logger: logger, alertSink: alerts)
/// for await alert in alerts.subscribe() { ... }
/// ```
public final class AlertBroadcaster: AlertSink {
    private let next: (any AlertSink)?
    private let subscribers = Locked<(next: UInt64, continuations: [UInt64: Subscriber])>((0, [:]))
    private let sentCount = Locked(0)

    /// Makes a broadcaster that also sends every alert to `next`.
    public init(forwardingTo next: (any AlertSink)? = nil) {
        self.next = next
    }

    public func send(_ alert: Alert) async {
        let readers = subscribers.withLock { state in
            sentCount.withLock { $0 += 1 }
            return Array(state.continuations.values)
        }
        for reader in readers {
            if case .dropped(let lost) = reader.continuation.yield(alert) { reader.overflow?(lost) }
        }
        await next?.send(alert)
    }

    /// Alerts sent so far: a subscriber that counts what it read knows when
    /// it has caught up (the notifications drain on shutdown).
    package var sent: Int { sentCount.withLock { $0 } }

    /// Every alert from now on; the newest `buffer` are kept for a slow reader.
    public func subscribe(buffer: Int = 256) -> AsyncStream<Alert> {
        subscribe(buffer: buffer, overflow: nil)
    }

    /// Every alert from now on; the newest `buffer` are kept for a slow
    /// reader, and `overflow` is called (by the sender, at once) with each
    /// older one the reader will not see.
    package func subscribe(buffer: Int, overflow: (@Sendable (Alert) -> Void)?) -> AsyncStream<Alert> {
        let (stream, continuation) = AsyncStream<Alert>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        let id = subscribers.withLock { state -> UInt64 in
            state.next += 1
            state.continuations[state.next] = Subscriber(continuation: continuation, overflow: overflow)
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    private struct Subscriber: Sendable {
        var continuation: AsyncStream<Alert>.Continuation
        var overflow: (@Sendable (Alert) -> Void)?
    }
}
