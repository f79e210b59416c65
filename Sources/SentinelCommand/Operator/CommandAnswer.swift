import Sentinel

/// Prints the answer of `POST /v1/commands` and turns a refusal into its exit code.
///
/// Readable: `applied: automation.freeze (operator:alice): incident 42`, or
/// with a target `applied: param.set checkout.retry.max_attempts = 2
/// (operator:alice): error rate high`; `--json`: the body as received, on
/// standard output whatever the status. A refusal's message goes to standard
/// error and the command exits 1, 2 or 3 (``OperatorFailure``).
enum CommandAnswer {
    /// Reports `response` for `request`; throws the failure it stands for.
    ///
    /// `showResult` adds the command's `result` on a second line (for
    /// `sentinel command`, whose commands the CLI does not know).
    static func report(
        _ response: AdminResponse, for request: CommandRequest, json: Bool, showResult: Bool = false
    )
        throws(OperatorFailure)
    {
        if json { print(response.text) }
        if let failure = response.failure { throw failure }
        guard !json else { return }
        let answer = try response.json()
        print(summary(answer, request: request))
        if showResult, answer["result"] != .null {
            print("result: \(answer["result"].jsonString())")
        }
    }

    /// The one-line summary of a 200 answer.
    static func summary(_ answer: JSONValue, request: CommandRequest) -> String {
        let audit = answer["audit"]
        let outcome = answer["outcome"].stringValue ?? audit["outcome"].stringValue ?? "done"
        var line = "\(outcome): \(audit["action"].stringValue ?? request.command)"
        if let target = audit["target"].stringValue { line += " \(target)" }
        let args = audit["args"] == .null ? JSONValue.object(request.args) : audit["args"]
        if ["param.set", "shadow.set"].contains(audit["action"].stringValue ?? request.command), args["value"] != .null {
            line += " = \(DisplayText.value(args["value"]))"
        }
        if let actor = audit["actor"].stringValue { line += " (\(actor))" }
        if let reason = audit["reason"].stringValue ?? request.reason, !reason.isEmpty {
            line += ": \(DisplayText.oneLine(reason))"
        }
        return line
    }
}
