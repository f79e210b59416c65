/// `script.pause { name }`: stops evaluating a script until it is resumed.
struct ScriptPauseCommand: Command {
    let name = "script.pause"
    let engine: ScriptEngine

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("name") }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        try await engine.pause(try arguments.string("name"))
        return ["paused": true]
    }
}

/// `script.resume { name }`: resumes a paused or suspended script (needs an operator by default).
struct ScriptResumeCommand: Command {
    let name = "script.resume"
    let engine: ScriptEngine

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("name") }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        try await engine.resume(try arguments.string("name"))
        return ["paused": false]
    }
}

/// `scripts.reload {}`: rescans the watched folders now.
struct ScriptsReloadCommand: Command {
    let name = "scripts.reload"
    let reload: @Sendable () async -> Void

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        await reload()
        return .null
    }
}
