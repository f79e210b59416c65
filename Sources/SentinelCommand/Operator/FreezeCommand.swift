import ArgumentParser
import Sentinel

/// `sentinel freeze --reason R`: the emergency override.
struct FreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze",
        abstract: "Stop every automated change now (automation.freeze), with a reason.",
        discussion: """
            Sends automation.freeze through POST /v1/commands; the reason is the freeze's \
            reason. While frozen, scripts keep running but every command they issue is denied \
            (audited), shadow trials hold, and operators' commands still apply. The freeze is \
            saved in the state file and survives a restart. `sentinel unfreeze` ends it; \
            `sentinel status` shows it. --reason is required.

            Exit codes: 0 applied, 1 denied or failed, 2 usage, 3 server unreachable or token \
            not accepted.

            Example:
              sentinel freeze --reason "incident 4711"
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func validate() throws {
        try mutation.requireReason(for: "freeze")
    }

    func run() async throws {
        // The reason goes both ways the command reads it: as its argument and
        // as the request's reason.
        let reason = mutation.givenReason.map { JSONValue.string($0) } ?? .null
        try await AdminSession.submit("automation.freeze", args: ["reason": reason], connection: connection, mutation: mutation)
    }
}

/// `sentinel unfreeze`
struct UnfreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unfreeze",
        abstract: "Let automation change things again (automation.unfreeze).",
        discussion: """
            Sends automation.unfreeze through POST /v1/commands. Held shadow trials restart \
            their windows at their next evaluation; time under the freeze never counts towards \
            a promotion.

            Exit codes: 0 applied, 1 denied or failed, 2 usage, 3 server unreachable or token \
            not accepted.

            Example:
              sentinel unfreeze --reason "incident 4711 resolved"
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func run() async throws {
        try await AdminSession.submit("automation.unfreeze", connection: connection, mutation: mutation)
    }
}
