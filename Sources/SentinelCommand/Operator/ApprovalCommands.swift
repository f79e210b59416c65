import ArgumentParser

/// `sentinel approve GATE`
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Answer a script's approval gate with yes (approval.grant).",
        discussion: """
            Sends approval.grant {gate} through POST /v1/commands. A script that called \
            sentinel.approval(GATE) reads "approved" from then on, until it resets the gate. \
            Open gates: GET /v1/approvals, or `sentinel audit --action approval.request`.

            Exit codes: 0 applied, 1 denied or failed, 2 usage, no such gate, or a server without \
            approvals (404 unknown_command), 3 server unreachable or token not accepted.

            Example:
              sentinel approve canary-to-50 --reason "error budget fine, go ahead"
            """
    )

    @Argument(help: "The gate's name.")
    var gate: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func run() async throws {
        try await AdminSession.submit("approval.grant", args: ["gate": .string(gate)], connection: connection, mutation: mutation)
    }
}

/// `sentinel deny GATE --reason R`
struct DenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Answer a script's approval gate with no (approval.deny), with a reason.",
        discussion: """
            Sends approval.deny {gate} through POST /v1/commands. A script that called \
            sentinel.approval(GATE) reads "denied" from then on, until it resets the gate. \
            --reason is required: the script's author will want to know why.

            Exit codes: 0 applied, 1 denied or failed, 2 usage, no such gate, or a server without \
            approvals (404 unknown_command), 3 server unreachable or token not accepted.

            Example:
              sentinel deny canary-to-50 --reason "release freeze until Monday"
            """
    )

    @Argument(help: "The gate's name.")
    var gate: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func validate() throws {
        try mutation.requireReason(for: "deny")
    }

    func run() async throws {
        try await AdminSession.submit("approval.deny", args: ["gate": .string(gate)], connection: connection, mutation: mutation)
    }
}
