import ArgumentParser

/// `sentinel trial abort NAME`
struct TrialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial",
        abstract: "Act on shadow trials.",
        discussion: """
            Example:
              sentinel trial abort checkout-timeout --reason "latency regression"
            """,
        subcommands: [TrialAbortCommand.self]
    )
}

/// `sentinel trial abort NAME`
struct TrialAbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "End a shadow trial now (trial.abort).",
        discussion: """
            Sends trial.abort {name} through POST /v1/commands: a running trial's shadows are \
            cleared; a promoted trial that is still being watched is rolled back. The freeze \
            does not bind operators, so this works while automation is frozen.

            Exit codes: 0 applied, 1 denied or failed, 2 usage or no such trial, 3 server \
            unreachable or token not accepted.

            Example:
              sentinel trial abort checkout-timeout --reason "latency regression"
            """
    )

    @Argument(help: "The trial's name (GET /v1/trials).")
    var name: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func run() async throws {
        try await AdminSession.submit("trial.abort", args: ["name": .string(name)], connection: connection, mutation: mutation)
    }
}
