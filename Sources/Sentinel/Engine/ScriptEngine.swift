import Logging
import Resilience
import ScriptHost

/// Loads, reloads and evaluates meta-policy scripts, and applies what they
/// decide through the control plane.
///
/// An actor that runs on its own thread (``LuaThreadExecutor``): Lua never
/// occupies a thread of the cooperative pool, and all sandboxes are used by
/// one thread at a time.
///
/// Rounds: ``tick(at:)`` evaluates every script that is due, in name order,
/// then applies their commands in name order, each script's in the order it
/// issued them. When two scripts set the same knob in one round, the script
/// whose name sorts last wins (its command is applied last). Missed ticks
/// (after a stall) are coalesced into one catch-up evaluation and counted.
public actor ScriptEngine {
    /// The most characters of a script's own text (a log line, an alert, an
    /// error message) that reach the log and the audit.
    public static let maximumLoggedText = 2000

    nonisolated let executor: LuaThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let plane: ControlPlane
    let logger: Logger
    let metrics = ScriptMetrics()
    let alertSink: (any AlertSink)?
    /// Limits of every script call.
    public private(set) var limits: ScriptLimits
    /// Seeds `math.random` in every sandbox.
    let seed: Int64
    /// Consecutive failures after which a script is suspended.
    public let failureLimit: Int
    /// In `sentinel check`: a sample state where every pipeline exists with zero traffic.
    let sample: Bool
    /// The gates `sentinel.approval` opens and reads (nil: not available).
    let approvals: ApprovalGates?
    /// Contributes `state.trials` (set by the trial module).
    var trials: @Sendable () -> [String: JSONValue] = { [:] }
    /// Contributes `state.fleet` (set by the runtime, and by fleet mode).
    var fleet: @Sendable () -> [String: JSONValue] = { SystemState.singleProcessFleet }
    /// Where `state`'s statistics come from (fleet mode's leader: the fleet's); nil: each pipeline's own.
    var statistics: @Sendable () -> (any PipelineStatisticsSource)? = { nil }

    struct Slot {
        var active: ScriptInstance
        /// A new version running in dry run beside the active one, and the evaluations it still has to run.
        var staged: (instance: ScriptInstance, remaining: Int)?
        var nextDue: Int64
        var consecutiveFailures = 0
        var suspended = false
        var paused = false
        var evaluations = 0
        var failures = 0
        var missedTicks = 0
        /// When `evaluate` last ran (Unix seconds of the plane's wall clock), and its error if it failed.
        var lastEvaluation: Double?
        var lastError: String?
    }

    var slots: [String: Slot] = [:]
    private var namesByPath: [String: String] = [:]
    private var failedPaths: [String: ScriptFailure] = [:]
    private var lastDryRun: [String: [QueuedCommand]] = [:]

    /// The commands the validation run of the script at `path` issued (for `sentinel check`).
    func dryRunCommands(path: String) -> [QueuedCommand] { lastDryRun[path] ?? [] }

    /// Problems `sentinel check` reports about what a script's validation run
    /// issued: commands no control plane here knows (fine if your service
    /// registers them) and arguments a built-in refuses.
    public func checkCommands(path: String) -> [String] {
        var problems: [String] = []
        for command in lastDryRun[path] ?? [] {
            guard plane.command(named: command.name) != nil else {
                if !command.name.hasPrefix("script.") && !command.name.hasPrefix("trial.") {
                    problems.append("warning: unknown command '\(command.name)' (not a built-in; fine if your service registers it)")
                }
                continue
            }
            do throws(CommandError) {
                try plane.checkShape(command.name, command.arguments)
            } catch {
                problems.append(error.message)
            }
        }
        return problems
    }

    public init(
        plane: ControlPlane, limits: ScriptLimits = .default, seed: Int64 = 0, failureLimit: Int = 5,
        logger: Logger, alertSink: (any AlertSink)? = nil,
        executor: LuaThreadExecutor = .shared, sample: Bool = false,
        trials: @escaping @Sendable () -> [String: JSONValue] = { [:] },
        approvals: ApprovalGates? = nil
    ) {
        self.trials = trials
        self.approvals = approvals
        self.plane = plane
        self.limits = limits
        self.seed = seed
        self.failureLimit = max(1, failureLimit)
        self.logger = logger
        self.alertSink = alertSink
        self.executor = executor
        self.sample = sample
    }

    /// Sets what `state.fleet` shows: `{ instances, leader, term }`.
    public func setFleetProvider(_ provider: @escaping @Sendable () -> [String: JSONValue]) {
        fleet = provider
    }

    /// Sets where `state`'s statistics, marks and comparisons read from (nil: each pipeline's own windows).
    public func setStatisticsProvider(_ provider: @escaping @Sendable () -> (any PipelineStatisticsSource)?) {
        statistics = provider
    }

    /// Sets what `state.trials` shows.
    public func setTrialsProvider(_ provider: @escaping @Sendable () -> [String: JSONValue]) {
        trials = provider
    }

    // MARK: - Status

    /// What the engine knows of one script.
    public struct ScriptStatus: Sendable, Hashable {
        public var name: String
        public var path: String
        public var interval: Duration
        public var dryRun: Bool
        public var paused: Bool
        public var suspended: Bool
        public var staged: Bool
        public var evaluations: Int
        public var failures: Int
        public var consecutiveFailures: Int
        public var missedTicks: Int
        /// The content digest of the active version.
        public var digest: UInt64
        /// When `evaluate` last ran (Unix seconds), nil before its first run.
        public var lastEvaluation: Double?
        /// The last run's error, nil when it succeeded.
        public var lastError: String?
    }

    /// Every loaded script, by name.
    public var scripts: [ScriptStatus] {
        slots.keys.sorted().compactMap { status(of: $0) }
    }

    public func status(of name: String) -> ScriptStatus? {
        guard let slot = slots[name] else { return nil }
        return ScriptStatus(
            name: name, path: slot.active.path, interval: slot.active.definition.interval,
            dryRun: slot.active.definition.dryRun, paused: slot.paused, suspended: slot.suspended,
            staged: slot.staged != nil, evaluations: slot.evaluations, failures: slot.failures,
            consecutiveFailures: slot.consecutiveFailures, missedTicks: slot.missedTicks,
            digest: slot.active.digest, lastEvaluation: slot.lastEvaluation, lastError: slot.lastError)
    }

    /// Files that failed to load and have no active version, with why.
    public var loadFailures: [String: ScriptFailure] { failedPaths }

    /// The instant the next script is due, if any runs.
    public var nextDue: Int64? {
        slots.values.filter { !$0.paused && !$0.suspended }.map(\.nextDue).min()
    }

    // MARK: - Loading

    /// Applies a batch of file changes from the watcher: loads new files,
    /// reloads changed ones (a broken edit keeps the last good version),
    /// unloads deleted ones. Every outcome is audited.
    public func apply(_ changes: [ScriptFolderChange]) async {
        for change in changes.sorted(by: { $0.path < $1.path }) {
            switch change {
            case .added(let file), .modified(let file):
                let source: String
                switch file.text {
                case .success(let text): source = text
                case .failure(let invalid):
                    reportFailure(
                        path: file.path, reload: namesByPath[file.path] != nil,
                        ScriptFailure(path: file.path, line: invalid.line, message: "the file is \(invalid)"))
                    continue
                }
                _ = load(path: file.path, source: source, digest: file.digest.value)
            case .removed(let path, _):
                unload(path: path)
            case .unreadable(let path, let reason):
                reportFailure(path: path, reload: namesByPath[path] != nil, ScriptFailure(path: path, message: reason))
            }
        }
    }

    /// Loads or reloads one script from its source. The new version is
    /// compiled, its table checked, and evaluated once in dry run against the
    /// current state under the limits, in a new sandbox; only then does it
    /// replace the running version. On failure the last good version keeps
    /// running and the failure is audited as `path:line: message`.
    @discardableResult
    public func load(path: String, source: String, digest: UInt64? = nil) -> Result<String, ScriptFailure> {
        let digest = digest ?? ScriptDigest(of: Array(source.utf8)).value
        let previousName = namesByPath[path]
        if let previousName, let slot = slots[previousName], slot.active.digest == digest, slot.staged == nil {
            return .success(previousName)
        }
        let instance: ScriptInstance
        do throws(ScriptFailure) {
            instance = try ScriptInstance(
                path: path, source: source, digest: digest, limits: limits, seed: seed,
                readParameter: { [plane, sample] name in sample ? 0 : try? plane.registry.value(name) })
            connectGates(instance)
            if let owner = slots[instance.name], owner.active.path != path {
                throw ScriptFailure(
                    path: path, message: "a script named '\(instance.name)' is already loaded from \(owner.active.path)")
            }
            if let previousName, previousName != instance.name, slots[instance.name] != nil {
                throw ScriptFailure(path: path, message: "a script named '\(instance.name)' is already loaded")
            }
            if let previous = previousName.flatMap({ slots[$0] })?.active, let warning = instance.inherit(from: previous) {
                logger.warning("\(path): \(warning)")
            }
            let state = snapshot()
            let record = try instance.dryRun(StateView(state, sample: sample), now: state.now, wallTime: plane.now)
            lastDryRun[path] = record.commands
        } catch {
            reportFailure(path: path, reload: previousName != nil, error)
            return .failure(error)
        }
        failedPaths[path] = nil
        let now = plane.time.now()
        if let previousName, var slot = slots[previousName] {
            let stagedCount = instance.definition.stagedEvaluations
            if stagedCount > 0 && previousName == instance.name && !slot.suspended && slot.consecutiveFailures == 0 {
                slot.staged = (instance, stagedCount)
                slots[previousName] = slot
                audit(
                    "script.reload", target: instance.name, outcome: .dryRun, path: path,
                    reason: "staged: the new version runs in dry run beside the active one for \(stagedCount) evaluations")
                return .success(instance.name)
            }
            slots[previousName] = nil
            slot.active = instance
            slot.staged = nil
            slot.consecutiveFailures = 0
            slot.suspended = false
            slot.lastError = nil  // the old version's; the new one has not run yet
            slot.nextDue = max(now, min(slot.nextDue, now + instance.definition.interval.nanosecondsClamped))
            slots[instance.name] = slot
            namesByPath[path] = instance.name
            audit("script.reload", target: instance.name, outcome: .applied, path: path, reason: "new version loaded")
            logger.info("reloaded \(path) as \(instance.name)")
        } else {
            slots[instance.name] = Slot(active: instance, nextDue: now + instance.definition.interval.nanosecondsClamped)
            namesByPath[path] = instance.name
            audit("script.load", target: instance.name, outcome: .applied, path: path, reason: "loaded")
            logger.info("loaded \(path) as \(instance.name)")
        }
        return .success(instance.name)
    }

    /// Unloads the script loaded from `path` (its file was deleted).
    public func unload(path: String) {
        failedPaths[path] = nil
        guard let name = namesByPath.removeValue(forKey: path) else { return }
        slots[name] = nil
        audit("script.unload", target: name, outcome: .applied, path: path, reason: "file removed")
        logger.info("unloaded \(name): \(path) was removed")
    }

    private func reportFailure(path: String, reload: Bool, _ error: ScriptFailure) {
        failedPaths[path] = error
        let kept = reload ? "; the last good version keeps running" : ""
        logger.error("\(error)\(kept)")
        audit(
            reload ? "script.reload" : "script.load", target: namesByPath[path] ?? ScriptInstance.defaultName(path),
            outcome: .failed, path: path, reason: "\(error)\(kept)")
    }

    // MARK: - Control

    /// Stops evaluating a script until ``resume(_:)`` (`script.pause`).
    public func pause(_ name: String) throws(CommandError) {
        guard slots[name] != nil else { throw CommandError(.invalidArgument, "script.pause: no script named '\(name)'") }
        slots[name]?.paused = true
    }

    /// Resumes a paused or suspended script (`script.resume`).
    public func resume(_ name: String) throws(CommandError) {
        guard var slot = slots[name] else { throw CommandError(.invalidArgument, "script.resume: no script named '\(name)'") }
        slot.paused = false
        slot.suspended = false
        slot.consecutiveFailures = 0
        slot.nextDue = max(slot.nextDue, plane.time.now())
        slots[name] = slot
    }

    /// Changes the limits of every script from the next evaluation on.
    public func setLimits(_ limits: ScriptLimits) {
        self.limits = limits
        for slot in slots.values {
            slot.active.sandbox.limits = limits
            slot.staged?.instance.sandbox.limits = limits
        }
    }

    // MARK: - Evaluating

    /// What one round did.
    public struct Round: Sendable {
        /// Scripts evaluated, in order.
        public var evaluated: [String] = []
        /// Scripts whose evaluate raised, with the error.
        public var failed: [String: ScriptFailure] = [:]
        /// The outcome of every command applied, in order, with the script that issued it.
        public var outcomes: [(script: String, command: String, outcome: CommandOutcome)] = []
        /// Ticks skipped because the engine was late, coalesced into this round.
        public var missedTicks = 0
        public var alerts: [Alert] = []
        /// What the evaluated scripts wrote with `sentinel.log`, in name order (each
        /// script's lines in the order it wrote them); none of a script whose evaluate raised.
        public var logs: [(script: String, line: ScriptLogLine)] = []
        /// What they stated with `sentinel.decision`, in the same order; none of a
        /// script whose evaluate raised.
        public var decisions: [ScriptDecision] = []
    }

    /// Evaluates every script due at `now` (nanoseconds of the control plane's
    /// time source) and applies their commands.
    @discardableResult
    public func tick(at now: Int64? = nil) async -> Round {
        let now = now ?? plane.time.now()
        var round = Round()
        let due = slots.filter { !$0.value.paused && !$0.value.suspended && $0.value.nextDue <= now }.keys.sorted()
        guard !due.isEmpty else { return round }
        let state = snapshot(at: now)
        let view = StateView(state, sample: sample)
        var plans: [(String, ScriptDefinition, EvaluationRecord)] = []
        for name in due {
            guard var slot = slots[name] else { continue }
            let interval = slot.active.definition.interval.nanosecondsClamped
            let late = (now - slot.nextDue) / interval
            slot.missedTicks += Int(late)
            round.missedTicks += Int(late)
            metrics.recordMissedTicks(name, Int(late))
            slot.nextDue += (late + 1) * interval
            slot.evaluations += 1
            slot.lastEvaluation = plane.now
            round.evaluated.append(name)
            let started = MonotonicTimeSource.rawNanos()
            defer { metrics.recordEvaluation(name, nanoseconds: MonotonicTimeSource.rawNanos() &- started) }
            do {
                let record = try slot.active.evaluate(view, now: state.now, wallTime: plane.now)
                slot.consecutiveFailures = 0
                slot.lastError = nil
                plans.append((name, slot.active.definition, record))
                if let staged = slot.staged {
                    stagedComparison(slot: &slot, staged: staged, record: record, view: view, state: state)
                }
            } catch {
                slot.failures += 1
                slot.consecutiveFailures += 1
                slot.lastError = error.description
                metrics.recordFailure(name)
                round.failed[name] = error
                logger.error("evaluate failed (\(slot.consecutiveFailures) of \(failureLimit) before suspension): \(error)")
                if error.hitLimit { rebuild(&slot) }
                if slot.consecutiveFailures >= failureLimit {
                    slot.suspended = true
                    let reason =
                        "failed \(slot.consecutiveFailures) times in a row; suspended until it is reloaded or resumed (last error: \(error))"
                    audit("script.suspend", target: name, outcome: .applied, path: slot.active.path, reason: reason)
                    let alert = Alert(
                        time: plane.now, source: "sentinel", severity: .critical,
                        message: "script \(name) suspended", fields: ["reason": .string(reason)])
                    round.alerts.append(alert)
                }
            }
            slots[name] = slot
        }
        for (name, definition, record) in plans {
            for line in record.logs {
                log(line, script: name)
                round.logs.append((name, line))
            }
            for var decision in record.decisions {
                decision.dryRun = definition.dryRun
                log(decision)
                round.decisions.append(decision)
            }
            applyGates(record.gates, script: name, dryRun: definition.dryRun)
            round.alerts += record.alerts
            for (index, command) in record.commands.enumerated() {
                let context = CommandContext(
                    identity: .script(name), source: "lua", reason: command.reason, evidence: command.evidence,
                    correlationID: "\(name)@\(now)", dryRun: definition.dryRun, positionInEvaluation: index + 1)
                let outcome = await plane.execute(command.name, command.arguments, context: context)
                round.outcomes.append((name, command.name, outcome))
            }
        }
        for alert in round.alerts { await send(alert) }
        return round
    }

    /// Lets the instance's `sentinel.approval` read the gates (in `sentinel
    /// check`, every gate reads as pending).
    private func connectGates(_ instance: ScriptInstance) {
        guard let approvals else { return }
        instance.api.readGate = { [sample] name in sample ? nil : approvals.gate(named: name) }
    }

    /// Opens and closes the gates an evaluation asked for (not for a dry-run
    /// script, whose requests change nothing).
    private func applyGates(_ requests: [GateRequest], script: String, dryRun: Bool) {
        guard let approvals, !dryRun, !sample else { return }
        for request in requests {
            switch request {
            case .open(let name, let message): approvals.open(name, message: message, by: "script:\(script)")
            case .reset(let name): approvals.reset(name, by: "script:\(script)")
            }
        }
    }

    /// After a limit the sandbox may hold half-updated state: build a fresh one
    /// from the same source, keeping memory and the helpers' state.
    private func rebuild(_ slot: inout Slot) {
        let old = slot.active
        do {
            let fresh = try ScriptInstance(
                path: old.path, source: old.source, digest: old.digest, limits: limits, seed: seed,
                readParameter: { [plane, sample] name in sample ? 0 : try? plane.registry.value(name) })
            connectGates(fresh)
            if let warning = fresh.inherit(from: old) { logger.warning("\(old.path): \(warning)") }
            slot.active = fresh
            logger.info("\(old.name): sandbox rebuilt from its source after a limit")
        } catch {
            logger.error("\(old.name): could not rebuild the sandbox after a limit: \(error)")
        }
    }

    private func stagedComparison(
        slot: inout Slot, staged: (instance: ScriptInstance, remaining: Int), record: EvaluationRecord,
        view: StateView, state: SystemState
    ) {
        let name = slot.active.name
        let activePlan = record.commands.map(\.summary).joined(separator: "; ")
        do {
            let stagedRecord = try staged.instance.evaluate(view, now: state.now, wallTime: plane.now)
            let stagedPlan = stagedRecord.commands.map(\.summary).joined(separator: "; ")
            logger.info("staged reload of \(name): active plan [\(activePlan)] | new plan [\(stagedPlan)]")
        } catch {
            logger.warning(
                "staged reload of \(name): the new version failed (\(error)); it is dropped and the active version keeps running")
            audit(
                "script.reload", target: name, outcome: .failed, path: staged.instance.path,
                reason: "staged version failed: \(error)")
            slot.staged = nil
            return
        }
        let remaining = staged.remaining - 1
        if remaining > 0 {
            slot.staged = (staged.instance, remaining)
            return
        }
        if let warning = staged.instance.inherit(from: slot.active) { logger.warning("\(name): \(warning)") }
        slot.active = staged.instance
        slot.staged = nil
        slot.lastError = nil
        audit(
            "script.reload", target: name, outcome: .applied, path: staged.instance.path,
            reason: "the staged version ran beside the active one and now takes over")
    }

    private func snapshot(at instant: Int64? = nil) -> SystemState {
        StateSnapshotter(registry: plane.registry).snapshot(
            instant: instant ?? plane.time.now(), frozen: plane.frozen != nil, trials: trials(), fleet: fleet(),
            statistics: statistics())
    }

    private func log(_ line: ScriptLogLine, script: String) {
        // The line's text was bounded at the call (`sentinel.log`).
        let message: Logger.Message = "\(script): \(line.message)"
        switch line.level {
        case .debug: logger.debug(message)
        case .info: logger.info(message)
        case .warning: logger.warning(message)
        case .error: logger.error(message)
        }
    }

    /// `canary: decision rollback checkout.canary (regression): errors 5.3% vs 0.6%`, at info, with its fields as metadata.
    private func log(_ decision: ScriptDecision) {
        var text = "\(decision.script): decision \(decision.action.rawValue) \(decision.subject)"
        if let verdict = decision.verdict { text += " (\(verdict))" }
        if let reason = decision.reason { text += ": \(reason)" }
        if decision.dryRun { text += " [dry run]" }
        var metadata: Logger.Metadata = [
            "decision.action": "\(decision.action.rawValue)", "decision.subject": "\(decision.subject)",
        ]
        if let verdict = decision.verdict { metadata["decision.verdict"] = "\(verdict)" }
        if !decision.evidence.isEmpty {
            // The simulation's events carry the whole evidence; a log line carries an excerpt.
            metadata["decision.evidence"] = "\(JSONValue.object(decision.evidence).jsonString().excerpt(ScriptEngine.maximumLoggedText))"
        }
        logger.info("\(text)", metadata: metadata)
    }

    private func send(_ alert: Alert) async {
        let message: Logger.Message =
            "ALERT [\(alert.severity.rawValue)] \(alert.source): \(alert.message.excerpt(ScriptEngine.maximumLoggedText))"
        switch alert.severity {
        case .info: logger.info(message)
        case .warning: logger.warning(message)
        case .critical: logger.critical(message)
        }
        await alertSink?.send(alert)
    }

    private func audit(_ action: String, target: String, outcome: AuditOutcome, path: String, reason: String) {
        plane.record(
            AuditEntry(
                time: plane.now, actor: "sentinel", action: action, target: target, args: ["path": .string(path)],
                outcome: outcome, reason: reason))
    }
}

extension QueuedCommand {
    /// `param.set checkout.retry.max_attempts=1`, for logs.
    var summary: String {
        let target = arguments["param"]?.stringValue ?? arguments["name"]?.stringValue ?? ""
        let value = arguments["value"].map { " = \($0.shortText)" } ?? ""
        return "\(name) \(target)\(value)"
    }
}

extension JSONValue {
    var shortText: String {
        switch self {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .int(let integer): "\(integer)"
        case .double(let number): "\(number)"
        case .string(let string): string
        case .array(let elements): "[\(elements.count) items]"
        case .object(let object): "{\(object.count) fields}"
        }
    }
}

extension LuaThreadExecutor {
    /// The process's Lua thread, shared by every engine unless one is given.
    public static let shared = LuaThreadExecutor()
}
