import Resilience

/// `trial.start { name, params, window, ... }`: starts a shadow trial (see ``TrialRequest``).
struct TrialStartCommand: Command {
    let name = "trial.start"
    let runner: TrialRunner

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("name") }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        _ = try TrialRequest(arguments, registry: plane.registry)
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        try runner.start(try TrialRequest(arguments, registry: plane.registry), by: context.identity)
    }
}

/// `trial.abort { name }`: ends a trial: clears its shadows, or rolls back while it is watching.
struct TrialAbortCommand: Command {
    let name = "trial.abort"
    let runner: TrialRunner

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("name") }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        try runner.abort(
            try arguments.string("name"), reason: context.reason ?? "aborted by \(context.identity.auditName)", by: context.identity)
    }
}
