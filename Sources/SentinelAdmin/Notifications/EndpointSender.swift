import Logging
import Resilience
import Sentinel

/// One endpoint's sender: takes notifications from its bounded queue in
/// order, waits for the rate limit, posts, and retries with backoff. Every
/// outcome is counted (statistics, metrics), reported, and logged without
/// the URL's path or the header's value.
final class EndpointSender: Sendable {
    let endpoint: NotificationEndpoint
    let queue: DeliveryQueue<NotificationEvent>
    private let metrics: NotificationMetrics
    private let time: any TimeSource
    private let instance: String?
    private let logger: Logger
    private let report: @Sendable (DeliveryEvent) -> Void
    private let counters = Locked(NotificationStatistics())
    private let bucket = Locked(TokenBucketCore())
    private let random: Locked<SplitMix64>
    /// Drops since the last one logged, nil when none are being dropped;
    /// the first drop of an episode is logged, the end of it too.
    private let dropping = Locked<Int?>(nil)

    init(
        endpoint: NotificationEndpoint, time: any TimeSource, seed: UInt64, instance: String?, metrics: NotificationMetrics,
        logger: Logger, report: @escaping @Sendable (DeliveryEvent) -> Void
    ) {
        self.endpoint = endpoint
        queue = DeliveryQueue(capacity: endpoint.queueCapacity)
        self.time = time
        random = Locked(SplitMix64(seed: seed))
        self.instance = instance
        self.metrics = metrics
        self.logger = logger
        self.report = report
    }

    var statistics: NotificationStatistics {
        var statistics = counters.withLock { $0 }
        statistics.queued = queue.count
        return statistics
    }

    // MARK: - Taking events (never waits)

    /// Queues `event`, or counts it as dropped when the queue is full or the
    /// service has stopped.
    func offer(_ event: NotificationEvent) {
        switch queue.offer(event) {
        case .accepted:
            metrics.queued.record(queue.count)
        case .full:
            record(.dropped, event, attempt: 0, reason: "the queue is full (\(queue.capacity) waiting)")
        case .closed:
            record(.dropped, event, attempt: 0, reason: "the service has stopped")
        }
    }

    /// Counts `event` as dropped before it reached the queue (`reason` says why).
    func drop(_ event: NotificationEvent, reason: String) {
        record(.dropped, event, attempt: 0, reason: reason)
    }

    // MARK: - Sending

    /// Sends until the queue is closed and empty, or the task is cancelled;
    /// what is left then is counted as dropped.
    func run(_ client: WebhookClient) async {
        while let event = await queue.next() {
            metrics.queued.record(queue.count)
            await deliver(event, client)
        }
        for event in queue.removeAll() {
            record(.dropped, event, attempt: 0, reason: "the service stopped before it was sent")
        }
        metrics.queued.record(0)
    }

    private func deliver(_ event: NotificationEvent, _ client: WebhookClient) async {
        let body = NotificationBody.render(event, kind: endpoint.kind, instance: instance)
        var attempt = 0
        while true {
            attempt += 1
            guard await waitForRateLimit() else {
                return record(.dropped, event, attempt: attempt - 1, reason: "the service stopped before it was sent")
            }
            let answer = await client.post(body, to: endpoint)
            let failure: (status: Int?, why: String)
            var retryAfter: Duration?
            switch answer {
            case .status(let code, _) where (200..<300).contains(code):
                return record(.delivered, event, attempt: attempt, status: code)
            case .cancelled:
                return record(.dropped, event, attempt: attempt, reason: "the service stopped during the request")
            case .status(let code, let after) where Self.isRetryable(code):
                failure = (code, "HTTP \(code)")
                retryAfter = after
            case .status(let code, _):
                return record(.failed, event, attempt: attempt, status: code, reason: "HTTP \(code) (not retried)")
            case .noAnswer(let text):
                failure = (nil, text)
            }
            guard attempt <= endpoint.retries.maxRetries else {
                let tries = attempt == 1 ? "1 attempt" : "\(attempt) attempts"
                return record(.failed, event, attempt: attempt, status: failure.status, reason: "\(failure.why); gave up after \(tries)")
            }
            record(.retried, event, attempt: attempt, status: failure.status, reason: failure.why)
            // The answer's Retry-After (a 429's or a 503's), at most the longest backoff; else the backoff.
            let delay =
                retryAfter.map { min($0, endpoint.retries.maxDelay) }
                ?? endpoint.retries.delay(beforeRetry: attempt, unit: random.withLock { $0.nextUnit() })
            do {
                try await time.sleep(until: time.now() &+ delay.nanosecondsClamped)
            } catch {
                return record(.dropped, event, attempt: attempt, reason: "the service stopped while it waited to retry")
            }
        }
    }

    /// 5xx, 408 (request timeout) and 429 (too many requests) are worth another try.
    static func isRetryable(_ status: Int) -> Bool {
        status >= 500 || status == 408 || status == 429
    }

    /// Takes a token of the rate limit, sleeping until there is one; false when cancelled.
    private func waitForRateLimit() async -> Bool {
        let limits = endpoint.rateLimit.limits
        while true {
            let now = time.now()
            let decision = bucket.withLock { $0.acquire(1, now: now, limits: limits) }
            if decision.allowed { return !Task.isCancelled }
            do {
                try await time.sleep(until: now &+ max(1, decision.retryAfter))
            } catch {
                return false
            }
        }
    }

    // MARK: - Counting

    private func record(
        _ kind: DeliveryEvent.Kind, _ event: NotificationEvent, attempt: Int, status: Int? = nil, reason: String? = nil
    ) {
        counters.withLock { counters in
            switch kind {
            case .delivered: counters.delivered += 1
            case .retried: counters.retried += 1
            case .dropped: counters.dropped += 1
            case .failed: counters.failed += 1
            }
        }
        metrics.count(kind)
        report(DeliveryEvent(endpoint: endpoint.name, kind: kind, event: event.label, attempt: attempt, status: status, reason: reason))
        log(kind, event, attempt: attempt, status: status, reason: reason)
    }

    private func log(_ kind: DeliveryEvent.Kind, _ event: NotificationEvent, attempt: Int, status: Int?, reason: String?) {
        var metadata: Logger.Metadata = [
            "endpoint": "\(endpoint.name)", "origin": "\(endpoint.url.origin)", "event": "\(event.label)", "attempt": "\(attempt)",
        ]
        if let status { metadata["status"] = "\(status)" }
        if let reason { metadata["reason"] = "\(reason)" }
        switch kind {
        case .delivered:
            logger.debug("notification delivered", metadata: metadata)
            if let dropped = dropping.withLock({ state -> Int? in
                defer { state = nil }
                return state
            }) {
                logger.notice("notifications are queued again after \(dropped) were dropped", metadata: metadata)
            }
        case .retried:
            logger.debug("notification attempt failed; retrying after a backoff", metadata: metadata)
        case .failed:
            logger.warning("notification not delivered", metadata: metadata)
        case .dropped:
            // Once per episode: a full queue must not also flood the log.
            let first = dropping.withLock { state -> Bool in
                defer { state = (state ?? 0) + 1 }
                return state == nil
            }
            if first {
                logger.warning(
                    "notifications are being dropped; counted in sentinel_notifications_dropped_total", metadata: metadata)
            }
        }
    }
}
