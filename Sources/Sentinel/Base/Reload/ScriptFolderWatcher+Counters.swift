extension ScriptFolderWatcher {
    /// What a watcher has done since it was made: for tests, and mirrored to
    /// swift-metrics (see ``ScriptFolderWatcher/init(scanner:configuration:logger:metricsFactory:)``).
    public struct Counters: Sendable, Hashable {
        /// Scans run (the first one when `run` starts included).
        public var scans = 0
        /// Scans whose changes were handed over completely (the first one
        /// done means the scripts present at start are loaded or refused).
        public var scansCompleted = 0
        /// Non-empty batches handed to `onChange`.
        public var batchesDelivered = 0
        /// Changes in those batches.
        public var changesDelivered = 0
        /// Raw inotify events read, relevant or not.
        public var inotifyEvents = 0
        /// Triggers from file-system events (after filtering out events about
        /// files that cannot be scripts, before debouncing).
        public var fileSystemTriggers = 0
        /// `IN_Q_OVERFLOW`s (and `.overflow` triggers pushed by tests).
        public var overflows = 0
        /// Times a folder went from inotify to polling (or started out polled):
        /// inotify unavailable, watch limit reached, folder missing, deleted or moved.
        public var pollingFallbacks = 0
        /// Watches added with `inotify_add_watch` (again after a folder came back).
        public var watchesAdded = 0
        /// Polling ticks.
        public var pollTicks = 0
        /// `SIGHUP`s received.
        public var hangups = 0
        /// Reloads asked for with ``ScriptFolderWatcher/reloadNow()`` (or pushed as `.manual`).
        public var manualReloads = 0

        /// All zero.
        public init() {}
    }
}
