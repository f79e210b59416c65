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
    private let broadcast = Broadcast<Alert>()

    /// Makes a broadcaster that also sends every alert to `next`.
    public init(forwardingTo next: (any AlertSink)? = nil) {
        self.next = next
    }

    public func send(_ alert: Alert) async {
        broadcast.publish(alert)
        await next?.send(alert)
    }

    /// Alerts sent so far: a subscriber that counts what it read knows when
    /// it has caught up (the notifications drain on shutdown).
    package var sent: Int { broadcast.published }

    /// Every alert from now on; the newest `buffer` are kept for a slow reader.
    public func subscribe(buffer: Int = 256) -> AsyncStream<Alert> {
        subscribe(buffer: buffer, overflow: nil)
    }

    /// Every alert from now on; the newest `buffer` are kept for a slow
    /// reader, and `overflow` is called (by the sender, at once) with each
    /// older one the reader will not see.
    package func subscribe(buffer: Int, overflow: (@Sendable (Alert) -> Void)?) -> AsyncStream<Alert> {
        broadcast.subscribe(buffer: buffer, overflow: overflow)
    }
}
