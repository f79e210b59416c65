import Dispatch
import Logging
import Metrics
import Resilience

/// Watches script folders and hands the engine batches of changes: inotify
/// on Linux, polling where inotify cannot watch, `SIGHUP` and
/// ``reloadNow()`` as extra triggers, and a debounce.
///
/// Whatever the trigger, the watcher runs one full ``ScriptFolderScanner/scan()``
/// (content hashes, not times) and calls `onChange` with the changes if there
/// are any. Triggers only decide when:
/// - **inotify**: one watch per folder for `IN_CREATE`, `IN_CLOSE_WRITE`,
///   `IN_MODIFY`, `IN_MOVED_TO`, `IN_MOVED_FROM`, `IN_DELETE`, `IN_ATTRIB`,
///   `IN_DELETE_SELF` and `IN_MOVE_SELF`, read through a Dispatch source (no
///   thread of the cooperative pool waits, and an idle watcher never wakes
///   up). Events about names that cannot be scripts (swap files,
///   temporary files) are dropped; `..data` (a ConfigMap update) is kept.
/// - **debounce**: a scan runs ``Configuration/debounce`` (50 ms) after the
///   last event of a burst, so one save (create, write, close, rename) is one
///   scan; at most ``Configuration/maximumDebounceDelay`` after the first.
/// - **overflow**: on `IN_Q_OVERFLOW` the kernel dropped events; a full
///   rescan recovers everything they could have said.
/// - **polling**: a folder inotify cannot watch (inotify unavailable, the
///   `max_user_watches` limit reached, the folder missing, deleted or moved)
///   is scanned every ``Configuration/pollInterval``, and its watch is tried
///   again at each tick, so a folder that is removed and recreated is
///   watched again once it is back.
/// - **`SIGHUP`** and **``reloadNow()``**: a scan at once.
///
/// Run it in a child task of the engine's service; cancel the task (or let
/// graceful shutdown of a swift-service-lifecycle `ServiceGroup` do it) to
/// stop. `run` then returns normally: no `CancellationError` escapes.
///
/// ```swift
/// let watcher = ScriptFolderWatcher(folders: ["policies"])
/// await withDiscardingTaskGroup { group in
///     group.addTask {
///         await watcher.run { changes in
///             await engine.apply(changes)   // compile, validate, swap; or keep the last good
///         }
///     }
///     // ... on the `scripts.reload` command:
///     await watcher.reloadNow()
/// }
/// ```
public final class ScriptFolderWatcher: Sendable {
    /// The scanner the watcher calls on every trigger.
    public let scanner: ScriptFolderScanner

    /// When the watcher scans.
    public let configuration: Configuration

    let logger: Logger
    let metrics: ScriptFolderWatcherMetrics
    let state = Locked(RunState())

    /// Scans run here: reading files is blocking I/O, which must not hold one
    /// of the cooperative pool's threads (two on these machines).
    let scanQueue = DispatchQueue(label: "sentinel.reload.scan")
    /// inotify events and `SIGHUP` are received here.
    let eventQueue = DispatchQueue(label: "sentinel.reload.events")

    /// What the running loop is told, from any thread.
    enum Event: Sendable {
        case trigger(ReloadTrigger)
        case inotify([InotifyEvent])
        /// A timer set for this time (since the start of the run) fired.
        case timer(Duration)
        /// The pushed trigger sequence ended: flush and stop.
        case triggersFinished
    }

    struct RunState: Sendable {
        /// The running loop's inbox; nil while not running.
        var inbox: AsyncStream<Event>.Continuation?
        /// Callers of `reloadNow()` waiting for the next scan to be delivered.
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var counters = Counters()
        var polledFolders: [String: String] = [:]
    }

    /// Makes a watcher around `scanner`. Nothing happens until ``run(onChange:)``.
    ///
    /// - Parameters:
    ///   - scanner: the scanner to call on each trigger.
    ///   - configuration: debounce, polling interval, inotify and `SIGHUP` switches.
    ///   - logger: where fallbacks to polling, unreadable files and batches are logged.
    ///   - metricsFactory: where the counters are mirrored (labels in the docs).
    public init(
        scanner: ScriptFolderScanner,
        configuration: Configuration = Configuration(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.scanner = scanner
        self.configuration = configuration
        self.logger = logger
        self.metrics = ScriptFolderWatcherMetrics(factory: metricsFactory)
    }

    /// Makes a watcher of `folders` with a default ``ScriptFolderScanner``
    /// (1 MiB file cap).
    public convenience init(
        folders: [String],
        configuration: Configuration = Configuration(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.init(
            scanner: ScriptFolderScanner(folders: folders), configuration: configuration, logger: logger,
            metricsFactory: metricsFactory)
    }

    // MARK: - Running

    /// Watches the folders until the task is cancelled, calling `onChange`
    /// with each non-empty batch of changes.
    ///
    /// It scans once at the start (after the watches are in place, so no
    /// change falls between the two): unless the scanner was already used,
    /// the first batch reports every script as added. `onChange` calls never
    /// overlap; triggers that arrive while one runs are coalesced into the
    /// next scan. Returns normally on cancellation or graceful shutdown.
    /// Only one `run` may be active per watcher; a second returns at once and
    /// logs an error.
    public func run(onChange: @escaping @Sendable ([ScriptFolderChange]) async -> Void) async {
        await runLoop(clock: ContinuousClock(), automatic: true, pump: nil, onChange: onChange)
    }

    /// Runs on the triggers a test pushes instead of inotify, polling and
    /// `SIGHUP` (``reloadNow()`` still works), until the sequence ends
    /// (pending triggers are then scanned at once) or the task is cancelled.
    ///
    /// ```swift
    /// let (triggers, push) = AsyncStream.makeStream(of: ReloadTrigger.self)
    /// push.yield(.fileSystemEvent)
    /// push.finish()
    /// await watcher.run(triggers: triggers) { batches.append($0) }
    /// ```
    public func run<Triggers: AsyncSequence<ReloadTrigger, Never> & Sendable>(
        triggers: Triggers,
        onChange: @escaping @Sendable ([ScriptFolderChange]) async -> Void
    ) async {
        await run(triggers: triggers, clock: ContinuousClock(), onChange: onChange)
    }

    /// The trigger seam on a chosen clock (tests use a manual one to step the debounce).
    func run<Triggers: AsyncSequence<ReloadTrigger, Never> & Sendable, C: Clock>(
        triggers: Triggers, clock: C,
        onChange: @escaping @Sendable ([ScriptFolderChange]) async -> Void
    ) async where C.Duration == Duration {
        await runLoop(
            clock: clock, automatic: false,
            pump: { inbox in
                for await trigger in triggers { inbox.yield(.trigger(trigger)) }
            }, onChange: onChange)
    }

    // MARK: - Reload on demand

    /// Asks the running watcher for a scan now (no debounce) and waits until
    /// the scan that answers it has been delivered to `onChange` (or found
    /// nothing to deliver).
    ///
    /// The scan starts after this call, so it sees every write made before
    /// it. Returns false, without scanning, when the watcher is not running
    /// or the calling task is cancelled.
    @discardableResult
    public func reloadNow() async -> Bool {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let inbox = state.withLock { state -> AsyncStream<Event>.Continuation? in
                    guard let inbox = state.inbox, !Task.isCancelled else { return nil }
                    state.waiters[id] = continuation
                    return inbox
                }
                guard let inbox else { return continuation.resume(returning: false) }
                inbox.yield(.trigger(.manual))
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }

    // MARK: - Observing

    /// What the watcher has done so far.
    public var counters: Counters {
        state.withLock { $0.counters }
    }

    /// The folders being polled instead of watched by inotify, with the
    /// reason (for example `folder does not exist`). Empty while all are
    /// watched or while the watcher is not running.
    public var polledFolders: [String: String] {
        state.withLock { $0.polledFolders }
    }

    /// Whether `run` is active.
    public var isRunning: Bool {
        state.withLock { $0.inbox != nil }
    }

    func count(_ update: (inout Counters) -> Void) {
        state.withLock { update(&$0.counters) }
    }
}
