import Logging
import Resilience
import ScriptHost
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The meta-policy service: watches folders of Lua scripts, evaluates each on
/// its interval, applies their commands through the control plane, and on
/// graceful shutdown finishes the running evaluation, flushes the audit and
/// saves the state.
///
/// ```swift
/// let plane = ControlPlane(registry: registry)
/// let sentinel = Sentinel(plane: plane, configuration: .init(folders: ["policies"], stateFile: "sentinel.state"))
/// let group = ServiceGroup(services: [sentinel], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public final class Sentinel: Service, Sendable {
    public struct Configuration: Sendable {
        /// Folders of `*.lua` scripts, watched for changes.
        public var folders: [String]
        /// Where knob values, the freeze and trials are saved (nil: not saved).
        public var stateFile: String?
        /// Limits of every script call.
        public var limits: ScriptLimits
        /// Consecutive failures after which a script is suspended.
        public var failureLimit: Int
        /// Seeds `math.random` in every sandbox.
        public var seed: Int64
        /// Debounce, polling, inotify and SIGHUP settings of the folder watcher.
        public var watcher: ScriptFolderWatcher.Configuration
        /// The longest the scheduler sleeps before looking for newly loaded scripts.
        public var idleWake: Duration

        public init(
            folders: [String], stateFile: String? = nil, limits: ScriptLimits = .default, failureLimit: Int = 5,
            seed: Int64 = 0, watcher: ScriptFolderWatcher.Configuration = .init(), idleWake: Duration = .milliseconds(500)
        ) {
            self.folders = folders
            self.stateFile = stateFile
            self.limits = limits
            self.failureLimit = failureLimit
            self.seed = seed
            self.watcher = watcher
            self.idleWake = idleWake
        }

        /// How the runtime runs scripts.
        var settings: SentinelRuntime.Settings { .init(limits: limits, seed: seed, failureLimit: failureLimit) }
    }

    /// The control plane, the trials and the scripts.
    public let runtime: SentinelRuntime
    public let configuration: Configuration
    public let watcher: ScriptFolderWatcher
    let logger: Logger
    let metrics: StateMetricsReporter
    /// Saved knobs that are not registered (yet): kept and written back, never dropped.
    private let retained = Locked<[String: PersistedParameter]>([:])
    /// How saving the state file goes: failures are logged once per episode.
    private let saves = Locked(StateSaveHealth())
    /// In a fleet: whether this instance leads (nil: it always decides).
    let authority: (any DecisionAuthority)?

    /// The control plane every change goes through.
    public var plane: ControlPlane { runtime.plane }
    /// The scripts.
    public var engine: ScriptEngine { runtime.engine }
    /// Shadow trials: `trial.start`, `trial.abort`, `state.trials`, evaluated on their intervals.
    public var trials: TrialRunner { runtime.trials }

    /// Runs `runtime` with a watcher on `configuration.folders` and the state
    /// file; registers `scripts.reload`.
    public init(
        runtime: SentinelRuntime, configuration: Configuration, logger: Logger, metrics: StateMetricsReporter = StateMetricsReporter(),
        authority: (any DecisionAuthority)? = nil
    ) {
        self.runtime = runtime
        self.authority = authority
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        let watcher = ScriptFolderWatcher(folders: configuration.folders, configuration: configuration.watcher, logger: logger)
        self.watcher = watcher
        if runtime.plane.command(named: "scripts.reload") == nil {
            do { try runtime.plane.register(ScriptsReloadCommand { _ = await watcher.reloadNow() }) } catch {
                logger.error("\(error)")
            }
        }
    }

    /// Builds the runtime around `plane` (see ``SentinelRuntime``) and runs it.
    public convenience init(
        plane: ControlPlane, configuration: Configuration, logger: Logger, alertSink: (any AlertSink)? = nil,
        metrics: StateMetricsReporter = StateMetricsReporter()
    ) {
        self.init(
            runtime: SentinelRuntime(plane: plane, settings: configuration.settings, logger: logger, alertSink: alertSink),
            configuration: configuration, logger: logger, metrics: metrics)
    }

    /// Restores the state file (a corrupt or unreadable one is reported and
    /// the configured defaults stay), then runs until graceful shutdown.
    public func run() async throws {
        restoreState()
        let engine = engine
        let watcher = watcher
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                group.addTask { await watcher.run { changes in await engine.apply(changes) } }
                group.addTask { await self.schedule() }
            }
        }
        plane.audit.flush()
        saveState()
        let health = saves.withLock { $0 }
        if let path = configuration.stateFile, let failure = health.lastError, health.failing {
            let since = health.lastSuccess.map { "since \(RFC3339.string(fromUnixSeconds: $0))" } ?? "in this run"
            logger.error(
                """
                sentinel stopped: the state was NOT saved to \(path) (\(failure)); what changed \(since) \
                (knob values, the freeze, trials) will not be restored at the next start
                """)
        } else {
            logger.info("sentinel stopped: audit flushed\(configuration.stateFile == nil ? "" : ", state saved")")
        }
    }

    /// Whether the last save of the state file failed, with the failures of the current episode.
    public var stateSaveHealth: StateSaveHealth { saves.withLock { $0 } }

    /// Evaluates scripts and trials as they fall due until cancelled. A late
    /// wake-up is one catch-up round, never a burst.
    func schedule() async {
        let time = plane.time
        // Applied decisions since the last save: operators' commands and gates
        // change the state between rounds too, and are saved within a wake-up.
        var savedAtApplied = plane.audit.count(of: .applied)
        while !Task.isCancelled {
            let now = time.now()
            let next = await runtime.nextDue ?? (now + configuration.idleWake.nanosecondsClamped)
            let wake = min(next, now + configuration.idleWake.nanosecondsClamped)
            if wake > now {
                do {
                    try await time.sleep(until: wake)
                } catch {
                    return
                }
            }
            let round: SentinelRuntime.Round
            if let authority {
                guard await authority.mayDecide() else {
                    // A follower: what the leader decides arrives as applied entries, saved below.
                    saveIfApplied(&savedAtApplied)
                    do { try await time.sleep(until: time.now() + configuration.idleWake.nanosecondsClamped) } catch { return }
                    continue
                }
                round = await runtime.round()
                await authority.roundFinished(round)
            } else {
                round = await runtime.round()
            }
            let applied = plane.audit.count(of: .applied)
            if round.changedState || applied != savedAtApplied {
                // A crash must not lose what the automation or an operator decided.
                savedAtApplied = applied
                saveState()
            }
            if !round.scripts.evaluated.isEmpty {
                // The file sink syncs on its next write; flushing per round bounds what a power loss can take.
                plane.audit.flush()
                metrics.report(StateSnapshotter(registry: plane.registry).snapshot())
            }
        }
    }

    private func saveIfApplied(_ savedAtApplied: inout Int) {
        let applied = plane.audit.count(of: .applied)
        guard applied != savedAtApplied else { return }
        savedAtApplied = applied
        saveState()
    }

    func restoreState() {
        guard let path = configuration.stateFile else { return }
        do {
            guard let state = try StateFile(path: path).load() else {
                logger.info("no state file at \(path) yet; starting from the configured defaults")
                return
            }
            let problems =
                plane.restore(state) + trials.restore(state.trials)
                + (state.extensions["approvals"].map { runtime.approvals.restore($0) } ?? [])
            for problem in problems { logger.warning("\(path): \(problem)") }
            let known = Set(plane.registry.parameters().map(\.name))
            retained.withLock { retained in
                retained = state.parameters.filter { !known.contains($0.key) }
            }
            logger.info("restored \(state.parameters.count - problems.count) of \(state.parameters.count) knob values from \(path)")
        } catch {
            // Keep the unreadable file for inspection; the next save writes a new one.
            let kept = path + ".unreadable"
            let moved = rename(path, kept) == 0
            logger.error("\(error); starting from the configured defaults\(moved ? " (the file is kept as \(kept))" : "")")
        }
    }

    /// Saves the state file now (also done on shutdown).
    public func saveState() {
        guard let path = configuration.stateFile else { return }
        do {
            var state = plane.persistedState(trials: trials.persisted(), extensions: ["approvals": runtime.approvals.persisted()])
            for (name, parameter) in retained.withLock({ $0 }) where state.parameters[name] == nil {
                state.parameters[name] = parameter
            }
            try StateFile(path: path).save(state)
            let recovered = saves.withLock { health -> Int? in
                defer { health.succeeded(at: plane.now) }
                return health.failing ? health.failures : nil
            }
            if let recovered { logger.notice("state saved again to \(path) after \(recovered) failed attempts") }
        } catch {
            let first = saves.withLock { health -> Bool in
                defer { health.failed("\(error)") }
                return !health.failing
            }
            // Once per episode: a full disk must not also flood the log.
            if first { logger.error("could not save the state: \(error); retrying at every change, logged again once it works") }
        }
    }
}
