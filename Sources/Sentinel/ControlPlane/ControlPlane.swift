import Resilience

#if canImport(Glibc)
import Glibc
#endif

/// The one door through which knobs change: commands from scripts, operators
/// and the sentinel are decoded, validated, authorized, guarded, applied and
/// audited here, each on its own.
///
/// ```swift
/// let plane = ControlPlane(registry: registry)
/// let outcome = await plane.execute("param.set", ["param": "checkout.retry.max_attempts", "value": 2],
///                                   context: CommandContext(identity: .operator("alice"), reason: "incident 42"))
/// // outcome.outcome == .applied; read the value back with param.get, never assume it
/// ```
///
/// A rejected, denied or failed command changes nothing, and every decision
/// is an ``AuditEntry`` in ``audit``.
public final class ControlPlane: Sendable {
    /// The knobs and pipelines commands act on.
    public let registry: ParameterRegistry
    /// Every decision, in memory and in the configured sinks.
    public let audit: AuditLog
    /// Monotonic time, for guard intervals.
    public let time: any TimeSource
    /// Unix seconds at `time`'s origin; audit times are `epoch + elapsed`
    /// (a virtual epoch in `simulate`, so the audit is reproducible).
    public let epoch: Double

    struct State {
        var commands: [String: any Command] = [:]
        var access: AccessPolicy
        var guards: GuardPolicy
        var frozen: Frozen?
        var lastChange: [String: Int64] = [:]
        /// Who last changed each knob's live or shadow value, when and why.
        var lastChangeRecords: [String: KnobChangeRecord] = [:]
        var idempotency: [String: CommandOutcome] = [:]
        var idempotencyOrder: [String] = []
    }

    /// Who froze automation, when and why.
    public struct Frozen: Sendable, Hashable {
        public var by: String
        public var reason: String?
        public var since: Double
    }

    let state: Locked<State>
    /// The only way the registry's knobs change once this plane owns them.
    let writer: KnobWriter

    /// Keys remembered for idempotency; older ones are forgotten first.
    static let idempotencyCapacity = 10_000

    public init(
        registry: ParameterRegistry, audit: AuditLog = AuditLog(), access: AccessPolicy = AccessPolicy(),
        guards: GuardPolicy = GuardPolicy(), time: any TimeSource = MonotonicTimeSource(),
        epoch: Double = ControlPlane.wallClockNow()
    ) {
        self.registry = registry
        self.audit = audit
        self.time = time
        self.epoch = epoch
        state = Locked(State(access: access, guards: guards))
        writer = registry.attach(owner: "its control plane")
        for command in BuiltinCommands.all {
            state.withLock { $0.commands[command.name] = command }
        }
    }

    // MARK: - Configuration

    /// Registers a command next to the built-ins. Names are unique.
    public func register(_ command: any Command) throws(CommandError) {
        try state.withLock { (state: inout State) throws(CommandError) in
            guard state.commands[command.name] == nil else {
                throw CommandError(.duplicate, "a command named \(command.name) is already registered")
            }
            state.commands[command.name] = command
        }
    }

    /// The registered command names, sorted.
    public var commandNames: [String] { state.withLock { $0.commands.keys.sorted() } }

    /// The command registered under `name`.
    public func command(named name: String) -> (any Command)? { state.withLock { $0.commands[name] } }

    /// The access policy in force; changing it applies to the next command.
    public var access: AccessPolicy {
        get { state.withLock { $0.access } }
        set { state.withLock { $0.access = newValue } }
    }

    /// The guards in force; changing them applies to the next command.
    public var guards: GuardPolicy {
        get { state.withLock { $0.guards } }
        set { state.withLock { $0.guards = newValue } }
    }

    /// Applies a configuration file's roles, grants and guards.
    public func configure(_ configuration: ControlPlaneConfiguration) {
        state.withLock {
            $0.access = configuration.access
            $0.guards = configuration.guards
        }
    }

    /// Non-nil while automation is frozen.
    public var frozen: Frozen? { state.withLock { $0.frozen } }

    func setFrozen(_ frozen: Frozen?) { state.withLock { $0.frozen = frozen } }

    /// The current audit time: Unix seconds.
    public var now: Double { epoch + Double(time.now()) / 1e9 }

    // MARK: - Executing

    /// Decodes, validates, authorizes, guards, applies and audits one command.
    /// Never throws: the outcome says what happened.
    public func execute(
        _ name: String, _ arguments: [String: JSONValue] = [:], context: CommandContext
    ) async -> CommandOutcome {
        let arguments = CommandArguments(command: name, values: arguments)
        if let key = context.idempotencyKey, let previous = state.withLock({ $0.idempotency[key] }) {
            var repeated = previous
            repeated.repeated = true
            return repeated
        }
        let outcome = await run(name, arguments, context)
        if let key = context.idempotencyKey {
            state.withLock { state in
                if state.idempotency.updateValue(outcome, forKey: key) == nil {
                    state.idempotencyOrder.append(key)
                    if state.idempotencyOrder.count > Self.idempotencyCapacity {
                        state.idempotency.removeValue(forKey: state.idempotencyOrder.removeFirst())
                    }
                }
            }
        }
        return outcome
    }

    /// Validates a command against the plane without authorizing, guarding
    /// or applying it.
    public func validate(_ name: String, _ arguments: [String: JSONValue]) throws(CommandError) {
        guard let command = command(named: name) else { throw Self.unknown(name) }
        _ = try Self.prepared(command, CommandArguments(command: name, values: arguments), in: self)
    }

    /// Checks a command's shape only (names, types), without a plane to look
    /// knobs up in: what `sentinel check` can say of a script's commands.
    public func checkShape(_ name: String, _ arguments: [String: JSONValue]) throws(CommandError) {
        guard let command = command(named: name) else { throw Self.unknown(name) }
        try Self.shape(command, CommandArguments(command: name, values: arguments))
    }

    private static func shape<C: Command>(_ command: C, _ raw: CommandArguments) throws(CommandError) {
        _ = try command.target(try command.decode(raw))
    }

    private static func prepared<C: Command>(
        _ command: C, _ raw: CommandArguments, in plane: ControlPlane
    ) throws(CommandError) -> C.Arguments {
        let decoded = try command.decode(raw)
        _ = try command.target(decoded)
        return try command.prepare(decoded, in: plane)
    }

    private func run(_ name: String, _ arguments: CommandArguments, _ context: CommandContext) async -> CommandOutcome {
        guard let command = command(named: name) else {
            return finish(name, nil, arguments, context, error: Self.unknown(name), query: false)
        }
        return await run(command, arguments, context)
    }

    /// Decodes once, prepares once, then authorizes, guards, applies and
    /// audits on the prepared arguments.
    private func run<C: Command>(_ command: C, _ raw: CommandArguments, _ context: CommandContext) async -> CommandOutcome {
        let name = command.name
        // The target is known before preparation, so a rejected command's entry names it.
        var target: String?
        let arguments: C.Arguments
        do {
            let decoded = try command.decode(raw)
            target = try command.target(decoded)
            arguments = try command.prepare(decoded, in: self)
        } catch {
            return finish(name, target, raw, context, error: error, query: command.isQuery)
        }
        if let refusal = admit(command, arguments, target: target, context: context) {
            return finish(name, target, raw, context, error: refusal, query: command.isQuery)
        }
        if context.dryRun && !command.isQuery {
            return finish(name, target, raw, context, outcome: .dryRun, result: nil)
        }
        let reservation: Reservation?
        switch reserve(changesParameter: command.changesParameter, target: target) {
        case .success(let held): reservation = held
        case .failure(let refusal): return finish(name, target, raw, context, error: refusal, query: command.isQuery)
        }
        do {
            let result = try await apply(command, arguments, context)
            if let knob = target, C.Arguments.self == KnobArguments.self, !command.isQuery {
                noteChange(of: [knob], by: context.identity.auditName, reason: context.reason)
            }
            return finish(name, target, raw, context, outcome: .applied, result: result, query: command.isQuery)
        } catch {
            release(reservation)
            // A command that refuses its arguments while applying says so with a
            // CommandError (audited with its own outcome); anything else failed.
            let failure = error as? CommandError ?? CommandError(.failed, "\(name) failed: \(error)")
            return finish(name, target, raw, context, error: failure, query: command.isQuery)
        }
    }

    private func apply<C: Command>(
        _ command: C, _ arguments: C.Arguments, _ context: CommandContext
    ) async throws -> JSONValue {
        guard let timeout = command.timeout else {
            return try await command.apply(arguments, context: context, in: self)
        }
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask { try await command.apply(arguments, context: context, in: self) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw CommandError(.failed, "\(command.name) timed out after \(timeout.secondsText)")
            }
            return result
        }
    }

    /// Authorization, the freeze and the guards. Nil when the command may go ahead.
    private func admit<C: Command>(
        _ command: C, _ arguments: C.Arguments, target: String?, context: CommandContext
    ) -> CommandError? {
        let (access, guards, frozen) = state.withLock { ($0.access, $0.guards, $0.frozen) }
        if let denial = access.denial(of: context.identity, command: command.name, target: target) {
            return CommandError(.unauthorized, denial)
        }
        if let frozen, context.identity.kind == .script, !command.isQuery {
            let why = frozen.reason.map { ": \($0)" } ?? ""
            return CommandError(.frozen, "automation is frozen by \(frozen.by)\(why)")
        }
        if let limit = guards.maxCommandsPerEvaluation, let position = context.positionInEvaluation, position > limit {
            return CommandError(
                .guardRefused,
                "guard max_commands_per_evaluation: command \(position) of this evaluation, the limit is \(limit)")
        }
        guard command.changesParameter, let parameter = target else { return nil }
        let applicable = guards.guards(for: parameter)
        guard !applicable.isEmpty else { return nil }
        do {
            guard let proposed = try command.proposedValue(arguments, in: self) else { return nil }
            // The knob commands looked the knob up when they were prepared.
            let current = try (arguments as? KnobArguments)?.info?.value ?? registry.value(parameter)
            for guardRule in applicable {
                if let refusal = guardRule.refusal(
                    parameter: parameter, current: current, proposed: proposed, sinceLastChange: nil)
                {
                    return CommandError(.guardRefused, refusal)
                }
            }
        } catch let error as CommandError {
            return error
        } catch let error as KnobError {
            return CommandError.from(error)
        } catch {
            return CommandError(.invalidArgument, "\(error)")
        }
        return nil
    }

    private struct Reservation {
        var parameter: String
        var previous: Int64?
    }

    /// Checks the minimum-interval guards and records the change time in one
    /// step under the lock, so two concurrent changes of one knob cannot both
    /// pass; the record is undone if applying fails.
    private func reserve(changesParameter: Bool, target: String?) -> Result<Reservation?, CommandError> {
        guard changesParameter, let parameter = target else { return .success(nil) }
        let now = time.now()
        return state.withLock { state -> Result<Reservation?, CommandError> in
            if let last = state.lastChange[parameter] {
                let since = Duration.nanoseconds(now - last)
                for guardRule in state.guards.guards(for: parameter) {
                    if let minInterval = guardRule.minInterval, since < minInterval {
                        return .failure(
                            CommandError(
                                .guardRefused,
                                "guard \(guardRule.pattern): \(parameter) changed \(since.secondsText) ago, min_interval is \(minInterval.secondsText)"
                            ))
                    }
                }
            }
            let previous = state.lastChange.updateValue(now, forKey: parameter)
            return .success(Reservation(parameter: parameter, previous: previous))
        }
    }

    private func release(_ reservation: Reservation?) {
        guard let reservation else { return }
        state.withLock { $0.lastChange[reservation.parameter] = reservation.previous }
    }

    // MARK: - Last changes

    /// Who last changed `knob`'s live or shadow value through this plane,
    /// when and why; nil when it has not changed since the plane was made.
    public func lastChange(of knob: String) -> KnobChangeRecord? {
        state.withLock { $0.lastChangeRecords[knob] }
    }

    /// Every knob's last change (see ``lastChange(of:)``).
    public var lastChanges: [String: KnobChangeRecord] { state.withLock { $0.lastChangeRecords } }

    func noteChange(of knobs: [String], by actor: String, reason: String?) {
        let record = KnobChangeRecord(actor: actor, time: now, reason: reason)
        state.withLock { state in for knob in knobs { state.lastChangeRecords[knob] = record } }
    }

    // MARK: - Audit

    private func finish(
        _ name: String, _ target: String?, _ arguments: CommandArguments, _ context: CommandContext,
        error: CommandError, query: Bool
    ) -> CommandOutcome {
        let entry = AuditEntry(
            time: now, actor: context.identity.auditName, action: name, target: target,
            args: .object(arguments.values), outcome: error.outcome, reason: error.message,
            evidence: context.evidence, correlationID: context.correlationID)
        audit.append(entry)
        return CommandOutcome(outcome: error.outcome, result: nil, error: error, entry: entry)
    }

    private func finish(
        _ name: String, _ target: String?, _ arguments: CommandArguments, _ context: CommandContext,
        outcome: AuditOutcome, result: JSONValue?, query: Bool = false
    ) -> CommandOutcome {
        let entry = AuditEntry(
            time: now, actor: context.identity.auditName, action: name, target: target,
            args: .object(arguments.values), outcome: outcome, reason: context.reason,
            evidence: context.evidence, correlationID: context.correlationID,
            result: query || result == .null ? nil : result)
        // Queries that succeed are answers, not decisions: not audited.
        if !query { audit.append(entry) }
        return CommandOutcome(outcome: outcome, result: result, error: nil, entry: query ? nil : entry)
    }

    /// Records a lifecycle event (`script.load`, `trial.promote`, ...) in the audit.
    public func record(_ entry: AuditEntry) {
        audit.append(entry)
    }

    private static func unknown(_ name: String) -> CommandError {
        CommandError(.unknownCommand, "unknown command '\(name.excerpt())'")
    }

    /// Unix seconds now, from the system's real-time clock.
    public static func wallClockNow() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
