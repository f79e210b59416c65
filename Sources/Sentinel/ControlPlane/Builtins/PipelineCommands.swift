import Resilience

/// `breaker.reset`, `breaker.force_open`, `breaker.force_closed` `{ pipeline }`.
struct BreakerCommand: Command {
    enum Action { case reset, forceOpen, forceClosed }
    let name: String
    let action: Action

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("pipeline")
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        _ = try gate(arguments, plane)
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        let gate = try gate(arguments, plane)
        switch action {
        case .reset: gate.reset()
        case .forceOpen: gate.forceOpen()
        case .forceClosed: gate.forceClosed()
        }
        return ["state": .string(gate.state.rawValue)]
    }

    private func gate(_ arguments: CommandArguments, _ plane: ControlPlane) throws(CommandError) -> BreakerGate {
        let name = try arguments.string("pipeline")
        guard let pipeline = plane.registry.pipeline(named: name) else {
            throw CommandError(.unknownParameter, "\(self.name): no pipeline named '\(name)'")
        }
        guard let gate = pipeline.breaker else {
            throw CommandError(.invalidArgument, "\(self.name): pipeline '\(name)' has no circuit breaker")
        }
        return gate
    }
}

/// `pipelines.list {}`: the registered pipeline names.
struct PipelinesListCommand: Command {
    let name = "pipelines.list"
    var isQuery: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        .array(plane.registry.pipelines.map { .string($0.name) })
    }
}

/// `state.get { pipeline? }`: the observer's snapshot (every pipeline, or one).
struct StateGetCommand: Command {
    let name = "state.get"
    var isQuery: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.optionalString("pipeline")
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        let state = StateSnapshotter(registry: plane.registry).snapshot(frozen: plane.frozen != nil)
        if let pipeline = try arguments.optionalString("pipeline") {
            guard let view = state.pipeline(pipeline) else {
                throw CommandError(.unknownParameter, "state.get: no pipeline named '\(pipeline)'")
            }
            return view.jsonValue
        }
        return state.jsonValue
    }
}

/// `automation.freeze { reason? }` and `automation.unfreeze {}`: the
/// operator's emergency override. While frozen, scripts still run and their
/// commands are audited as denied.
struct FreezeCommand: Command {
    let name: String
    let freeze: Bool

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        if freeze {
            let reason = try arguments.optionalString("reason") ?? context.reason
            plane.setFrozen(.init(by: context.identity.auditName, reason: reason, since: plane.now))
        } else {
            plane.setFrozen(nil)
        }
        return ["frozen": .bool(freeze)]
    }
}

/// The built-in commands, registered with every control plane.
enum BuiltinCommands {
    static let all: [any Command] = [
        ParamGetCommand(), ParamSetCommand(), ShadowSetCommand(), ShadowClearCommand(), ShadowPromoteCommand(),
        ParamsListCommand(),
        BreakerCommand(name: "breaker.reset", action: .reset),
        BreakerCommand(name: "breaker.force_open", action: .forceOpen),
        BreakerCommand(name: "breaker.force_closed", action: .forceClosed),
        PipelinesListCommand(), StateGetCommand(),
        FreezeCommand(name: "automation.freeze", freeze: true),
        FreezeCommand(name: "automation.unfreeze", freeze: false),
    ]
}
