import Sentinel

/// The Slack-compatible body: `text` (what a notification or a client
/// without blocks shows) and `blocks` (a section with the message and a
/// context line).
///
/// ```text
/// :white_check_mark: *param.set applied* checkout.split.canary_weight = 5
/// why: canary healthy at 1%
/// evidence: canary.error_rate 0.0012 · canary.calls 1200 · stable.error_rate 0.0031
/// script:canary · pipeline checkout · sentinel checkout-1
/// ```
extension NotificationBody {
    /// Slack's limit on a section's text.
    static let slackSectionLimit = 3000

    /// The Slack body (kind `slack`).
    public static func slack(_ event: NotificationEvent, instance: String?) -> JSONValue {
        let (main, context) = slackLines(event, instance: instance)
        let mainText = main.joined(separator: "\n").excerpt(slackSectionLimit - 10)
        let contextText = context.joined(separator: " · ").excerpt(slackSectionLimit - 10)
        return [
            "text": .string(mainText + "\n" + contextText),
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": .string(mainText)]],
                ["type": "context", "elements": [["type": "mrkdwn", "text": .string(contextText)]]],
            ],
        ]
    }

    /// The message's lines and the context's parts, escaped for mrkdwn.
    static func slackLines(_ event: NotificationEvent, instance: String?) -> (main: [String], context: [String]) {
        var main: [String] = []
        var context: [String] = []
        switch event {
        case .alert(let alert):
            main.append("\(icon(alert.severity)) *\(escape(alert.message.excerpt(500)))*")
            if let numbers = KeyNumbers.line(.object(alert.fields.filter { $0.key != "pipeline" })) {
                main.append(escape(numbers))
            }
            context.append("\(alert.severity.rawValue) alert from \(escape(alert.source))")
        case .audit(let entry):
            var head = "\(icon(entry)) *\(escape(entry.action)) \(escape(entry.outcome.rawValue))*"
            if let change = change(entry) {
                head += " " + escape(change)
            } else if let target = entry.target {
                head += " " + escape(target)
            }
            main.append(head)
            if let reason = entry.reason, !reason.isEmpty { main.append("why: " + escape(reason.excerpt(500))) }
            if let evidence = entry.evidence, let numbers = KeyNumbers.line(evidence) { main.append("evidence: " + escape(numbers)) }
            context.append(escape(entry.actor))
        case .approvalRequest(let entry):
            let gate = entry.target ?? "?"
            main.append(":raised_hand: *Approval requested: \(escape(gate))*")
            if let message = entry.args["message"].stringValue, !message.isEmpty { main.append(escape(message.excerpt(500))) }
            if let evidence = entry.evidence, let numbers = KeyNumbers.line(evidence) { main.append("evidence: " + escape(numbers)) }
            main.append("approve: `\(escape(approveCommand(gate)))`  deny: `\(escape(denyCommand(gate)))`")
            context.append("asked by \(escape(entry.actor))")
        }
        if let pipeline = event.pipeline { context.append("pipeline \(escape(pipeline))") }
        if let instance { context.append("sentinel \(escape(instance))") }
        context.append(RFC3339.string(fromUnixSeconds: event.time))
        return (main, context)
    }

    /// Slack's three control characters in text: `&`, `<`, `>`.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func icon(_ severity: Alert.Severity) -> String {
        switch severity {
        case .info: ":information_source:"
        case .warning: ":warning:"
        case .critical: ":rotating_light:"
        }
    }

    static func icon(_ entry: AuditEntry) -> String {
        if entry.action == "trial.rollback" { return ":rewind:" }
        switch entry.outcome {
        case .applied: return ":white_check_mark:"
        case .denied: return ":no_entry:"
        case .rejected: return ":no_entry_sign:"
        case .failed: return ":x:"
        case .dryRun: return ":memo:"
        }
    }
}
