import ArgumentParser
import Sentinel

/// `sentinel command NAME [--arg KEY=VALUE]...`
struct IssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "command",
        abstract: "Run any control-plane command, built-in or custom, with arguments.",
        discussion: """
            Sends {command: NAME, args: {KEY: VALUE, ...}} through POST /v1/commands as \
            operator:ID: authorized, guarded and audited like every command. Each --arg value is \
            JSON when it parses as JSON (3, true, null, ["a","b"], {"k":1}), else the text as a \
            string (checkout.timeout.duration, 250ms); quote a JSON string to send digits as a \
            string: --arg id='"42"'. The answer's `result` is printed on a second line.

            Exit codes: 0 applied (or dry run), 1 denied, rejected or failed, 2 usage, bad \
            arguments or an unknown command, 3 server unreachable or token not accepted.

            Example:
              sentinel command breaker.reset --arg pipeline=checkout --reason "fixed"
              sentinel command shadow.set --arg param=checkout.timeout.duration \\
                --arg value=0.5
              sentinel command state.get --json
            """
    )

    @Argument(help: "The command's name (param.set, breaker.force_open, a custom one, ...).")
    var name: String

    @Option(name: .customLong("arg"), help: "An argument KEY=VALUE (repeat for more); VALUE is JSON when it parses as JSON.")
    var arguments: [String] = []

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func validate() throws {
        guard !name.isEmpty else { throw ValidationError("NAME is empty") }
        do {
            _ = try ArgumentAssignment.object(arguments)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let args = (try? ArgumentAssignment.object(arguments)) ?? [:]
        try await AdminSession.submit(name, args: args, connection: connection, mutation: mutation, showResult: true)
    }
}
