import ScriptHost

/// `sentinel.decision{...}`: a rule states what it decided, about what, and
/// why, with the evidence it read. It issues no command; the decision is kept
/// in the evaluation's record like a queued command (none when `evaluate`
/// raises).
///
/// ```lua
/// sentinel.decision{ action = "hold", subject = "checkout.canary", verdict = "inconclusive",
///                    reason = "120 canary calls, 200 needed", evidence = { canary_calls = 120 } }
/// ```
///
/// Mistakes raise at the call, naming the field: a missing or unknown
/// `action`, a `subject` that is not a non-empty string, an unknown field,
/// `evidence` that is not a table of named values or is larger than
/// ``ScriptDecision/maximumEvidenceBytes`` as JSON.
extension ScriptAPI {
    static let decisionFields = ["action", "subject", "verdict", "reason", "evidence"]

    func installDecisions(in sandbox: LuaSandbox) throws(ScriptError) {
        try sandbox.register("decision", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...1)
            let spec = try arguments.table(1)
            for key in spec.keys {
                guard case .string(let field) = key, Self.decisionFields.contains(field) else {
                    throw arguments.bad(
                        1, "unknown field '\(key.description.excerpt())' (expected one of: \(Self.decisionFields.joined(separator: ", ")))")
                }
            }
            let actions = ScriptDecision.Action.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            guard let actionName = try Self.decisionText(spec, "action", arguments) else {
                throw arguments.bad(1, "'action' is missing (one of \(actions))")
            }
            guard let action = ScriptDecision.Action(rawValue: actionName) else {
                throw arguments.bad(1, "action must be one of \(actions), got \"\(actionName.excerpt())\"")
            }
            guard let subject = try Self.decisionText(spec, "subject", arguments, limit: ScriptDecision.maximumLabelLength) else {
                throw arguments.bad(1, "'subject' is missing (a string: what the decision is about, like \"checkout.canary\")")
            }
            let verdict = try Self.decisionText(spec, "verdict", arguments, limit: ScriptDecision.maximumLabelLength)
            // Prose, like a log line or an alert's message: bounded, not refused.
            let reason = try Self.decisionText(spec, "reason", arguments)?.excerpt(ScriptEngine.maximumLoggedText)
            let evidence = try Self.decisionEvidence(spec["evidence"], arguments)
            self.record.append(
                ScriptDecision(
                    time: self.wallTime, source: self.source, action: action, subject: subject, verdict: verdict,
                    reason: reason, evidence: evidence))
            return []
        }
    }

    /// A non-empty string field, nil when absent; longer than `limit` characters raises.
    private static func decisionText(
        _ spec: [LuaKey: LuaValue], _ field: String, _ arguments: LuaArguments, limit: Int? = nil
    ) throws(LuaArgumentError) -> String? {
        switch spec[.string(field)] {
        case nil, .nil?: return nil
        case .string(let text)?:
            guard !text.isEmpty else { throw arguments.bad(1, "\(field) must be a non-empty string") }
            if let limit, text.count > limit {
                throw arguments.bad(1, "\(field) is longer than \(limit) characters: \"\(text.excerpt(40))\"")
            }
            return text
        case .bytes?: throw arguments.bad(1, "\(field) is not valid UTF-8")
        case let other?: throw arguments.bad(1, "\(field) must be a string, got \(other.typeName)")
        }
    }

    /// A table of named values, or nothing; at most ``ScriptDecision/maximumEvidenceBytes`` as JSON.
    private static func decisionEvidence(_ value: LuaValue?, _ arguments: LuaArguments) throws(LuaArgumentError) -> [String: JSONValue] {
        switch value {
        case nil, .nil?: return [:]
        case .table(let table)?:
            guard case .object(let evidence) = JSONValue(LuaValue.table(table)) else {
                throw arguments.bad(1, "evidence must be a table of named values like { error_rate = 0.05 }, got a list")
            }
            let size = JSONValue.object(evidence).jsonString().utf8.count
            guard size <= ScriptDecision.maximumEvidenceBytes else {
                throw arguments.bad(
                    1, "evidence is \(size) bytes as JSON, above the limit of \(ScriptDecision.maximumEvidenceBytes)")
            }
            return evidence
        case let other?: throw arguments.bad(1, "evidence must be a table, got \(other.typeName)")
        }
    }
}
