/// What happened to one notification at one endpoint: the service's
/// ``NotificationService/deliveryEvents(buffer:)`` stream carries these, and
/// the counters of ``NotificationStatistics`` and the metrics count them.
public struct DeliveryEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The endpoint answered 2xx.
        case delivered
        /// An attempt failed in a way worth retrying (5xx, 408, 429, no
        /// connection, a timeout); another follows after a backoff.
        case retried
        /// Never sent: the queue was full, the notifier fell behind the
        /// audit or the alerts, or the service stopped first.
        case dropped
        /// Given up: a 3xx or 4xx answer, or the retries ran out.
        case failed
    }

    /// The endpoint's name.
    public var endpoint: String
    public var kind: Kind
    /// The event's label: `alert from script:canary`, `audit param.set applied`, ...
    public var event: String
    /// The attempt that ended so (0 when none was made).
    public var attempt: Int
    /// The HTTP status, when the endpoint answered.
    public var status: Int?
    /// Why it was retried, dropped or failed (never a secret).
    public var reason: String?

    public init(endpoint: String, kind: Kind, event: String, attempt: Int, status: Int? = nil, reason: String? = nil) {
        self.endpoint = endpoint
        self.kind = kind
        self.event = event
        self.attempt = attempt
        self.status = status
        self.reason = reason
    }
}

/// One endpoint's counters since the service was made.
public struct NotificationStatistics: Sendable, Hashable {
    /// Notifications the endpoint accepted.
    public var delivered = 0
    /// Attempts that were retried (one notification may count several).
    public var retried = 0
    /// Notifications never sent: the queue was full, the notifier fell
    /// behind, or the service stopped.
    public var dropped = 0
    /// Notifications given up on.
    public var failed = 0
    /// Notifications waiting now.
    public var queued = 0

    public init() {}
}
