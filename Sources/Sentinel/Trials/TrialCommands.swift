import Resilience

/// `trial.start`'s arguments: the raw values, read into a ``TrialRequest``
/// once the plane is there to say what each knob is.
struct TrialStartArguments: Sendable {
    let raw: CommandArguments
    let name: String
    private(set) var request: TrialRequest?

    init(_ raw: CommandArguments) throws(CommandError) {
        self.raw = raw
        name = try raw.string("name")
        for key in raw.values.keys where !TrialRequest.fields.contains(key) {
            throw CommandError(
                .invalidArgument,
                "trial.start: unknown field '\(key)' (expected one of: \(TrialRequest.fields.sorted().joined(separator: ", ")))")
        }
    }

    func prepared(in plane: ControlPlane) throws(CommandError) -> TrialStartArguments {
        var prepared = self
        prepared.request = try TrialRequest(raw, registry: plane.registry)
        return prepared
    }
}

/// `trial.start { name, params, window, ... }`: starts a shadow trial (see ``TrialRequest``).
struct TrialStartCommand: Command {
    let name = "trial.start"
    let runner: TrialRunner

    func decode(_ arguments: CommandArguments) throws(CommandError) -> TrialStartArguments {
        try TrialStartArguments(arguments)
    }

    func target(_ arguments: TrialStartArguments) -> String? { arguments.name }

    func prepare(_ arguments: TrialStartArguments, in plane: ControlPlane) throws(CommandError) -> TrialStartArguments {
        try arguments.prepared(in: plane)
    }

    func apply(_ arguments: TrialStartArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        guard let request = arguments.request else { throw CommandError(.failed, "trial.start: \(arguments.name) was not prepared") }
        return try runner.start(request, by: context.identity, reason: context.reason)
    }
}

/// `trial.abort { name }`: ends a trial: clears its shadows, or rolls back while it is watching.
struct TrialAbortCommand: Command {
    let name = "trial.abort"
    let runner: TrialRunner

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("name") }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        try runner.abort(
            try arguments.string("name"), reason: context.reason ?? "aborted by \(context.identity.auditName)", by: context.identity)
    }
}
