import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The state of one ``ScriptFolderWatcher`` run, owned by its loop: the
/// schedule, which folders are watched or polled, and the inotify instance.
struct WatchSession<C: Clock> where C.Duration == Duration {
    /// Whether the loop goes on after an event.
    enum Next {
        case proceed
        case finish
    }

    let watcher: ScriptFolderWatcher
    let clock: C
    let origin: C.Instant
    let inbox: AsyncStream<ScriptFolderWatcher.Event>.Continuation
    var schedule: ReloadSchedule
    var watches: FolderWatchTable
    /// Deadlines for which a timer task is sleeping.
    private var armed: [Duration] = []
    #if canImport(Glibc)
    private var monitor: InotifyMonitor?
    #endif

    init(watcher: ScriptFolderWatcher, clock: C, inbox: AsyncStream<ScriptFolderWatcher.Event>.Continuation) {
        self.watcher = watcher
        self.clock = clock
        self.origin = clock.now
        self.inbox = inbox
        let configuration = watcher.configuration
        schedule = ReloadSchedule(
            debounce: configuration.debounce, maximumDelay: configuration.maximumDebounceDelay,
            pollInterval: configuration.pollInterval)
        watches = FolderWatchTable(folders: watcher.scanner.folders, reason: "not watched")
    }

    /// Time since the run started.
    var now: Duration { origin.duration(to: clock.now) }

    private var logger: Logger { watcher.logger }

    // MARK: - Sources

    /// Sets up inotify (or polling); `SIGHUP` is the loop's own child task.
    mutating func start() {
        let configuration = watcher.configuration
        let inbox = self.inbox
        var unavailable = configuration.usesInotify ? "inotify is not available on this platform" : "inotify is turned off"
        #if canImport(Glibc)
        if configuration.usesInotify {
            switch InotifyMonitor.make() {
            case .success(let monitor):
                self.monitor = monitor
                monitor.startReading(on: watcher.eventQueue) { events in inbox.yield(.inotify(events)) }
                for index in watches.folders.indices { addWatch(folderAt: index, first: true) }
            case .failure(let failure):
                unavailable = "inotify unavailable: " + ScriptFileReader.describe(errno: failure.code)
            }
        }
        if monitor == nil {
            for index in watches.folders.indices { fallBack(folderAt: index, reason: unavailable) }
        }
        #else
        for index in watches.folders.indices { fallBack(folderAt: index, reason: unavailable) }
        #endif
        schedule.setPolling(watches.needsPolling, at: now)
        publishPolledFolders()
    }

    /// Stops inotify.
    mutating func stop() {
        #if canImport(Glibc)
        monitor?.stop()
        monitor = nil
        #endif
    }

    // MARK: - Events

    /// Records what `event` means for the schedule and the watches.
    mutating func handle(_ event: ScriptFolderWatcher.Event) -> Next {
        switch event {
        case .trigger(let trigger):
            watcher.count { counters in
                switch trigger {
                case .fileSystemEvent: counters.fileSystemTriggers += 1
                case .overflow: counters.overflows += 1
                case .poll: break  // counted by pollTick(), which also counts the schedule's own ticks
                case .hangup: counters.hangups += 1
                case .manual: counters.manualReloads += 1
                }
            }
            if trigger == .overflow { watcher.metrics.overflows.increment() }
            if trigger == .hangup { logger.info("SIGHUP: rescanning the script folders") }
            record(trigger)
        case .inotify(let events):
            handle(events)
        case .timer(let deadline):
            armed.removeAll { $0 == deadline }
        case .triggersFinished:
            return .finish
        }
        return .proceed
    }

    private mutating func record(_ trigger: ReloadTrigger) {
        if trigger != .poll { watcher.metrics.triggers[trigger]?.increment() }
        schedule.record(trigger, at: now)
    }

    private mutating func handle(_ events: [InotifyEvent]) {
        #if canImport(Glibc)
        var changed = false
        var overflowed = false
        for event in events {
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                overflowed = true
                continue
            }
            guard !watches.folders(watchedBy: event.descriptor).isEmpty else { continue }
            if event.mask & UInt32(IN_IGNORED) != 0 {
                lose(descriptor: event.descriptor, reason: "folder removed, moved or unmounted")
                changed = true
            } else if event.mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_UNMOUNT)) != 0 {
                // A moved folder keeps its watch, which would follow it to its
                // new place: drop it and poll the path we were given.
                monitor?.removeWatch(event.descriptor)
                let reason = event.mask & UInt32(IN_MOVE_SELF) != 0 ? "folder moved away" : "folder removed"
                lose(descriptor: event.descriptor, reason: reason)
                changed = true
            } else if let name = event.name {
                if ScriptFileName.mayConcernScripts(entry: name) { changed = true }
            } else {
                changed = true  // the folder's own attributes (its permissions) changed
            }
        }
        watcher.count { $0.inotifyEvents += events.count }
        watcher.metrics.inotifyEvents.increment(by: events.count)
        if overflowed {
            logger.warning("inotify queue overflowed: events were lost, rescanning the script folders")
            watcher.count { $0.overflows += 1 }
            watcher.metrics.overflows.increment()
            record(.overflow)
        }
        if changed {
            watcher.count { $0.fileSystemTriggers += 1 }
            record(.fileSystemEvent)
        }
        #endif
    }

    // MARK: - Watches

    #if canImport(Glibc)
    private mutating func addWatch(folderAt index: Int, first: Bool) {
        guard let monitor else { return }
        let folder = watches.folders[index]
        switch monitor.addWatch(folder) {
        case .success(let descriptor):
            watches.watch(folderAt: index, descriptor: descriptor)
            watcher.count { $0.watchesAdded += 1 }
            watcher.metrics.watchesAdded.increment()
            if !first { logger.info("watching the script folder with inotify again", metadata: ["folder": "\(folder)"]) }
        case .failure(let failure):
            let reason =
                switch failure.code {
                case ENOENT: "folder does not exist"
                case ENOTDIR: "not a folder"
                case ENOSPC: "inotify watch limit reached (fs.inotify.max_user_watches)"
                default: "inotify_add_watch failed: " + ScriptFileReader.describe(errno: failure.code)
                }
            if first {
                fallBack(folderAt: index, reason: reason)
            } else {
                watches.poll(folderAt: index, reason: reason)
            }
        }
    }
    #endif

    private mutating func lose(descriptor: Int32, reason: String) {
        for index in watches.lose(descriptor: descriptor, reason: reason) {
            countFallBack(folderAt: index, reason: reason)
        }
        schedule.setPolling(true, at: now)
        publishPolledFolders()
    }

    private mutating func fallBack(folderAt index: Int, reason: String) {
        watches.poll(folderAt: index, reason: reason)
        countFallBack(folderAt: index, reason: reason)
    }

    private func countFallBack(folderAt index: Int, reason: String) {
        watcher.count { $0.pollingFallbacks += 1 }
        watcher.metrics.pollingFallbacks.increment()
        logger.warning(
            "polling the script folder instead of watching it with inotify",
            metadata: [
                "folder": "\(watches.folders[index])", "reason": "\(reason)",
                "interval": "\(watcher.configuration.pollInterval)",
            ])
    }

    /// At a polling tick (the schedule's or a pushed one): counts it and
    /// tries to watch the polled folders again, before the scan, so that
    /// nothing written after the scan goes unseen.
    mutating func pollTick() {
        watcher.count { $0.pollTicks += 1 }
        watcher.metrics.triggers[.poll]?.increment()
        #if canImport(Glibc)
        guard monitor != nil else { return }
        for index in watches.pollingIndexes { addWatch(folderAt: index, first: false) }
        schedule.setPolling(watches.needsPolling, at: now)
        publishPolledFolders()
        #endif
    }

    private func publishPolledFolders() {
        let reasons = watches.pollingReasons
        watcher.state.withLock { $0.polledFolders = reasons }
        watcher.metrics.polledFolders.record(reasons.count)
    }

    // MARK: - Timers

    /// The deadline for which a timer task must be started, if none already
    /// sleeps until that time or earlier.
    mutating func timerToArm() -> Duration? {
        guard let wake = schedule.nextWake, !armed.contains(where: { $0 <= wake }) else { return nil }
        armed.append(wake)
        return wake
    }

    // MARK: - Scanning

    /// Scans, delivers a non-empty batch, and releases the `reloadNow()`
    /// callers that were waiting when the scan started.
    mutating func scan(
        answering triggers: Set<ReloadTrigger>, onChange: @Sendable ([ScriptFolderChange]) async -> Void
    ) async {
        let waiters = watcher.state.withLock { state in
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        let changes = await watcher.scanOffPool()
        watcher.count { $0.scans += 1 }
        watcher.metrics.scans.increment()
        if changes.isEmpty {
            logger.debug(
                "script folders scanned: no change", metadata: ["triggers": "\(triggers.map(\.rawValue).sorted())"])
        } else {
            log(changes, triggers: triggers)
            await onChange(changes)
            watcher.count { counters in
                counters.batchesDelivered += 1
                counters.changesDelivered += changes.count
            }
            watcher.metrics.batches.increment()
            watcher.metrics.changes.increment(by: changes.count)
        }
        watcher.count { $0.scansCompleted += 1 }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    private func log(_ changes: [ScriptFolderChange], triggers: Set<ReloadTrigger>) {
        logger.info(
            "script folders changed",
            metadata: ["changes": "\(changes.count)", "triggers": "\(triggers.map(\.rawValue).sorted())"])
        for change in changes {
            switch change {
            case .added(let file):
                logger.debug("script file added", metadata: ["path": "\(file.path)", "digest": "\(file.digest)"])
            case .modified(let file):
                logger.debug("script file modified", metadata: ["path": "\(file.path)", "digest": "\(file.digest)"])
            case .removed(let path, _):
                logger.debug("script file removed", metadata: ["path": "\(path)"])
            case .unreadable(let path, let reason):
                logger.warning("script file or folder unreadable", metadata: ["path": "\(path)", "reason": "\(reason)"])
            }
        }
    }
}
