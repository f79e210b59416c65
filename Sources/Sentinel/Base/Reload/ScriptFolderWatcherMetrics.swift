import Metrics

/// The watcher's swift-metrics instruments, in their own place as in
/// swift-configuration's `ReloadingFileProviderMetrics`.
///
/// Labels (all counters unless noted): `sentinel_reload_scans_total`,
/// `sentinel_reload_batches_total`, `sentinel_reload_changes_total`,
/// `sentinel_reload_inotify_events_total`, `sentinel_reload_overflows_total`,
/// `sentinel_reload_polling_fallbacks_total`, `sentinel_reload_watches_added_total`,
/// `sentinel_reload_triggers_total` with dimension `trigger`, and the gauge
/// `sentinel_reload_polled_folders`.
struct ScriptFolderWatcherMetrics: Sendable {
    let scans: Counter
    let batches: Counter
    let changes: Counter
    let inotifyEvents: Counter
    let overflows: Counter
    let pollingFallbacks: Counter
    let watchesAdded: Counter
    let triggers: [ReloadTrigger: Counter]
    let polledFolders: Gauge

    init(factory: any MetricsFactory) {
        scans = Counter(label: "sentinel_reload_scans_total", factory: factory)
        batches = Counter(label: "sentinel_reload_batches_total", factory: factory)
        changes = Counter(label: "sentinel_reload_changes_total", factory: factory)
        inotifyEvents = Counter(label: "sentinel_reload_inotify_events_total", factory: factory)
        overflows = Counter(label: "sentinel_reload_overflows_total", factory: factory)
        pollingFallbacks = Counter(label: "sentinel_reload_polling_fallbacks_total", factory: factory)
        watchesAdded = Counter(label: "sentinel_reload_watches_added_total", factory: factory)
        var triggers: [ReloadTrigger: Counter] = [:]
        for trigger in ReloadTrigger.allCases {
            triggers[trigger] = Counter(
                label: "sentinel_reload_triggers_total", dimensions: [("trigger", trigger.rawValue)], factory: factory)
        }
        self.triggers = triggers
        polledFolders = Gauge(label: "sentinel_reload_polled_folders", factory: factory)
    }
}
