import ArgumentParser
import Sentinel

/// `sentinel set PARAM VALUE --reason R`
struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a knob's live value (param.set), with a reason.",
        discussion: """
            Sends param.set {param, value} through POST /v1/commands as operator:ID: authorized, \
            guarded (bounds, steps, minimum interval) and audited like every change. VALUE is a \
            number, or a duration such as 250ms, 5s or 2m (sent as the string). --reason is \
            required. A negative VALUE goes after `--` (sentinel set --reason R -- NAME -1).

            Exit codes: 0 applied (or dry run), 1 denied, rejected by a guard or bound, or \
            failed, 2 usage or a request the server refused as malformed (unknown knob), 3 server \
            unreachable or token not accepted.

            Example:
              sentinel set checkout.retry.max_attempts 1 --reason "INC-4711 overload"
              sentinel set checkout.timeout.duration 250ms --reason "p99 180ms" --dry-run
            """
    )

    @Argument(help: "The knob: <pipeline>.<policy>.<knob>.")
    var param: String

    @Argument(help: "A number, or a duration (250ms, 5s, 2m).")
    var value: String

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions

    func validate() throws {
        try mutation.requireReason(for: "set")
        guard !param.isEmpty else { throw ValidationError("PARAM is empty") }
    }

    func run() async throws {
        try await AdminSession.submit(
            "param.set", args: ["param": .string(param), "value": Self.value(value)], connection: connection,
            mutation: mutation)
    }

    /// A number when VALUE reads as a JSON number, else the text (a duration
    /// such as `250ms`; the server decides whether it is one).
    static func value(_ text: String) -> JSONValue {
        switch try? JSONParser().parse(text) {
        case .some(.int(let number)): .int(number)
        case .some(.double(let number)): .double(number)
        default: .string(text)
        }
    }
}
