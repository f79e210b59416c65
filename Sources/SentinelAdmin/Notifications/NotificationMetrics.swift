import Metrics

/// The counters of one endpoint, labelled `endpoint`:
/// `sentinel_notifications_delivered_total`, `..._retried_total`,
/// `..._dropped_total`, `..._failed_total`, and the gauge
/// `sentinel_notifications_queued`.
struct NotificationMetrics: Sendable {
    let delivered: Counter
    let retried: Counter
    let dropped: Counter
    let failed: Counter
    let queued: Gauge

    init(endpoint: String, factory: any MetricsFactory) {
        let dimensions = [("endpoint", endpoint)]
        delivered = Counter(label: "sentinel_notifications_delivered_total", dimensions: dimensions, factory: factory)
        retried = Counter(label: "sentinel_notifications_retried_total", dimensions: dimensions, factory: factory)
        dropped = Counter(label: "sentinel_notifications_dropped_total", dimensions: dimensions, factory: factory)
        failed = Counter(label: "sentinel_notifications_failed_total", dimensions: dimensions, factory: factory)
        queued = Gauge(label: "sentinel_notifications_queued", dimensions: dimensions, factory: factory)
    }

    func count(_ kind: DeliveryEvent.Kind) {
        switch kind {
        case .delivered: delivered.increment()
        case .retried: retried.increment()
        case .dropped: dropped.increment()
        case .failed: failed.increment()
        }
    }
}
