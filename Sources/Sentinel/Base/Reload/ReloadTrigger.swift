/// Why the script folders are scanned again.
///
/// ``ScriptFolderWatcher`` makes these itself (from inotify, its polling
/// timer, SIGHUP and ``ScriptFolderWatcher/reloadNow()``); tests push them
/// through ``ScriptFolderWatcher/run(triggers:onChange:)``. Whatever the
/// trigger, the watcher runs the same full scan: a trigger only decides *when*.
public enum ReloadTrigger: String, Sendable, Hashable, CaseIterable {
    /// Something changed in a watched folder. Debounced: a burst of events
    /// from one save becomes one scan.
    case fileSystemEvent
    /// The kernel dropped events (`IN_Q_OVERFLOW`). A full rescan recovers
    /// whatever they would have said. Debounced like file-system events,
    /// since an overflow comes in the middle of a storm of them.
    case overflow
    /// A polling tick, for folders that inotify cannot watch. Scans at once.
    case poll
    /// The process received `SIGHUP`. Scans at once.
    case hangup
    /// Someone asked for a reload (the `scripts.reload` command). Scans at once.
    case manual

    /// Whether the trigger waits for the debounce interval before the scan.
    var isDebounced: Bool {
        switch self {
        case .fileSystemEvent, .overflow: true
        case .poll, .hangup, .manual: false
        }
    }
}
