import Logging
import Resilience
import ScriptHost

/// What a sentinel is made of, built in one place: the control plane (with
/// its audit), the shadow-trial runner and the script engine, wired to each
/// other with the clock, the sinks and the logger given by the caller.
///
/// The ``Sentinel`` service runs it on the real clock with a folder watcher
/// and a state file; `sentinel simulate` runs it on a virtual clock; the
/// admin API and fleet mode attach to it. Whoever drives it calls
/// ``round(at:)`` when something falls due (``nextDue``).
///
/// ```swift
/// let runtime = SentinelRuntime(
///     plane: ControlPlane(registry: registry, audit: AuditLog(sinks: [file], logger: logger)),
///     settings: .init(limits: configuration.limits), logger: logger)
/// let round = await runtime.round()
/// ```
public final class SentinelRuntime: Sendable {
    /// How scripts run: their limits, their seed, when to suspend one.
    public struct Settings: Sendable {
        /// The limits of every script call.
        public var limits: ScriptLimits
        /// Seeds `math.random` in every sandbox.
        public var seed: Int64
        /// Consecutive failures after which a script is suspended.
        public var failureLimit: Int

        public init(limits: ScriptLimits = .default, seed: Int64 = 0, failureLimit: Int = 5) {
            self.limits = limits
            self.seed = seed
            self.failureLimit = failureLimit
        }
    }

    /// The one door every change goes through.
    public let plane: ControlPlane
    /// Shadow trials: `trial.start`, `trial.abort`, `state.trials`.
    public let trials: TrialRunner
    /// The scripts.
    public let engine: ScriptEngine
    /// Approval gates: `sentinel.approval`, `approval.grant`, `approval.deny`.
    public let approvals: ApprovalGates
    /// Where alerts go besides the log.
    public let alertSink: (any AlertSink)?
    let logger: Logger

    /// Builds the trial runner, the approval gates and the script engine
    /// around `plane`, and registers their commands (`trial.start`,
    /// `trial.abort`, `approval.grant`, `approval.deny`, `script.pause`,
    /// `script.resume`).
    public init(
        plane: ControlPlane, settings: Settings = Settings(), logger: Logger, alertSink: (any AlertSink)? = nil,
        executor: LuaThreadExecutor = .shared
    ) {
        self.plane = plane
        self.logger = logger
        self.alertSink = alertSink
        let trials = TrialRunner(plane: plane, logger: logger)
        self.trials = trials
        trials.registerCommands()
        let approvals = ApprovalGates(plane: plane)
        self.approvals = approvals
        do { try approvals.registerCommands() } catch { logger.error("\(error)") }
        engine = ScriptEngine(
            plane: plane, limits: settings.limits, seed: settings.seed, failureLimit: settings.failureLimit,
            logger: logger, alertSink: alertSink, executor: executor, trials: { trials.stateView() }, approvals: approvals)
        for command: any Command in [ScriptPauseCommand(engine: engine), ScriptResumeCommand(engine: engine)]
        where plane.command(named: command.name) == nil {
            do { try plane.register(command) } catch { logger.error("\(error)") }
        }
    }

    /// When the next script or trial falls due (nanoseconds on the plane's clock), if any.
    public var nextDue: Int64? {
        get async { [await engine.nextDue, trials.nextDue].compactMap { $0 }.min() }
    }

    /// What one round did.
    public struct Round: Sendable {
        /// The scripts' round: what was evaluated, failed, applied.
        public var scripts: ScriptEngine.Round
        /// Trials whose status changed in the round.
        public var trialsChanged: Bool
        /// The trials' alerts (the cost guard, a regression held by a freeze).
        public var trialAlerts: [Alert]

        /// Whether the round changed something worth saving.
        public var changedState: Bool {
            trialsChanged || scripts.outcomes.contains { $0.outcome.outcome == .applied }
        }
    }

    /// Evaluates the scripts due at `now`, then the trials due; sends the
    /// trials' alerts to the log and the alert sink (the engine sends the
    /// scripts' own).
    public func round(at now: Int64? = nil) async -> Round {
        let scripts = await engine.tick(at: now)
        let before = trials.trials.mapValues(\.status)
        let alerts = trials.evaluateDue(now: now)
        for alert in alerts {
            logger.warning("ALERT [\(alert.severity.rawValue)] \(alert.source): \(alert.message.excerpt(ScriptEngine.maximumLoggedText))")
            await alertSink?.send(alert)
        }
        return Round(scripts: scripts, trialsChanged: trials.trials.mapValues(\.status) != before, trialAlerts: alerts)
    }
}
