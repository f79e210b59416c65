extension ScriptFolderWatcher {
    /// How a ``ScriptFolderWatcher`` decides when to scan.
    ///
    /// ```swift
    /// var configuration = ScriptFolderWatcher.Configuration()
    /// configuration.pollInterval = .seconds(5)   // where inotify is unavailable
    /// let watcher = ScriptFolderWatcher(folders: ["policies"], configuration: configuration)
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// How long after the last file-system event the scan runs, so that
        /// the burst of events one save makes becomes one scan. Default 50 ms:
        /// editors and `cp` finish a save in a few milliseconds, and a reload
        /// should still land well under 100 ms after the write.
        public var debounce: Duration

        /// The longest a scan waits for a folder that never stops changing.
        /// Default 1 s.
        public var maximumDebounceDelay: Duration

        /// How often folders that inotify cannot watch are scanned (and
        /// their watch tried again). Default 2 s.
        public var pollInterval: Duration

        /// Whether to use inotify at all (Linux only). Off: every folder is polled.
        public var usesInotify: Bool

        /// Whether `SIGHUP` triggers a scan. On Linux, Dispatch keeps
        /// swallowing `SIGHUP` after the watcher stops (the process no longer
        /// dies of it); turn this off if the process handles the signal itself
        /// and calls ``ScriptFolderWatcher/reloadNow()``.
        public var reloadsOnHangup: Bool

        /// Makes a configuration; every value has a default.
        public init(
            debounce: Duration = .milliseconds(50),
            maximumDebounceDelay: Duration = .seconds(1),
            pollInterval: Duration = .seconds(2),
            usesInotify: Bool = true,
            reloadsOnHangup: Bool = true
        ) {
            self.debounce = debounce
            self.maximumDebounceDelay = maximumDebounceDelay
            self.pollInterval = pollInterval
            self.usesInotify = usesInotify
            self.reloadsOnHangup = reloadsOnHangup
        }
    }
}
