import ArgumentParser

/// `sentinel pause SCRIPT`
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop evaluating one script (script.pause) until it is resumed.",
        discussion: """
            Sends script.pause {name} through POST /v1/commands. The script stays loaded; its \
            evaluations stop until `sentinel resume`; `sentinel status` counts the paused ones.

            Exit codes: 0 applied, 1 denied or failed, 2 usage or no such script, 3 server \
            unreachable or token not accepted.

            Example:
              sentinel pause canary --reason "hold the ramp during the migration"
            """
    )

    @Argument(help: "The script's name (as `sentinel check` and GET /v1/scripts show it).")
    var script: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func run() async throws {
        try await AdminSession.submit("script.pause", args: ["name": .string(script)], connection: connection, mutation: mutation)
    }
}

/// `sentinel resume SCRIPT`
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Evaluate a paused or suspended script again (script.resume).",
        discussion: """
            Sends script.resume {name} through POST /v1/commands: ends a pause, or lets a \
            script that was suspended after failing in a row run again.

            Exit codes: 0 applied, 1 denied or failed, 2 usage or no such script, 3 server \
            unreachable or token not accepted.

            Example:
              sentinel resume canary --reason "migration done"
            """
    )

    @Argument(help: "The script's name.")
    var script: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func run() async throws {
        try await AdminSession.submit("script.resume", args: ["name": .string(script)], connection: connection, mutation: mutation)
    }
}
