import Sentinel

/// The request body an endpoint receives for an event, in its kind.
///
/// The JSON body (kind `json`, version 1) is one object with sorted keys:
///
/// ```json
/// {"audit":{...the audit entry...},"event":"audit","instance":"checkout-1","pipeline":"checkout",
///  "summary":"param.set applied by script:canary: checkout.split.canary_weight = 5","time":"2026-12-04T10:00:00.000Z","version":1}
/// ```
///
/// - `version`: 1; a change that removes or renames a field raises it.
/// - `event`: `alert`, `audit` or `approval.request`.
/// - `time` (RFC 3339), `summary` (one line for people), `instance`
///   (null when not named), `pipeline` (null when the event names none).
/// - `alert`: the alert as in the alert log (`event` `alert`).
/// - `audit`: the entry as in the audit log (`event` `audit` and
///   `approval.request`).
/// - `approval`: `{ gate, message, requested_by, approve, deny }` with the
///   commands that answer the gate (`event` `approval.request`).
public enum NotificationBody {
    /// The version of the JSON body.
    public static let version = 1

    /// The body of `event` for `kind`, as UTF-8.
    public static func render(_ event: NotificationEvent, kind: NotificationEndpoint.Kind, instance: String?) -> [UInt8] {
        switch kind {
        case .json: Array(json(event, instance: instance).jsonString().utf8)
        case .slack: Array(slack(event, instance: instance).jsonString().utf8)
        }
    }

    /// The JSON body (kind `json`).
    public static func json(_ event: NotificationEvent, instance: String?) -> JSONValue {
        var body: [String: JSONValue] = [
            "version": .int(Int64(version)), "event": .string(event.kind),
            "time": .string(RFC3339.string(fromUnixSeconds: event.time)), "summary": .string(summary(event)),
            "instance": instance.map { .string($0) } ?? .null, "pipeline": event.pipeline.map { .string($0) } ?? .null,
        ]
        switch event {
        case .alert(let alert):
            body["alert"] = alert.jsonValue
        case .audit(let entry):
            body["audit"] = entry.jsonValue
        case .approvalRequest(let entry):
            body["audit"] = entry.jsonValue
            let gate = entry.target ?? "?"
            body["approval"] = [
                "gate": .string(gate), "message": entry.args["message"].stringValue.map { .string($0) } ?? .null,
                "requested_by": .string(entry.actor), "approve": .string(approveCommand(gate)), "deny": .string(denyCommand(gate)),
            ]
        }
        return .object(body)
    }

    /// One line for people: what happened, who, to what, why.
    public static func summary(_ event: NotificationEvent) -> String {
        switch event {
        case .alert(let alert):
            return "\(alert.severity.rawValue) alert from \(alert.source): \(alert.message.excerpt(300))"
        case .audit(let entry):
            var line = "\(entry.action) \(entry.outcome.rawValue) by \(entry.actor)"
            if let change = change(entry) { line += ": " + change } else if let target = entry.target { line += ": " + target }
            if let reason = entry.reason, !reason.isEmpty { line += " (\(reason.excerpt(300)))" }
            return line
        case .approvalRequest(let entry):
            let gate = entry.target ?? "?"
            let message = entry.args["message"].stringValue.map { ": \($0.excerpt(300))" } ?? ""
            return "approval requested for gate \(gate) by \(entry.actor)\(message)"
        }
    }

    /// `sentinel approve GATE --reason "..."`.
    static func approveCommand(_ gate: String) -> String { "sentinel approve \(gate) --reason \"...\"" }
    /// `sentinel deny GATE --reason "..."`.
    static func denyCommand(_ gate: String) -> String { "sentinel deny \(gate) --reason \"...\"" }

    /// `checkout.split.canary_weight = 5` for a change of a knob's value.
    static func change(_ entry: AuditEntry) -> String? {
        guard let param = entry.args["param"].stringValue ?? entry.target else { return nil }
        let value = entry.args["value"]
        guard value != .null else { return nil }
        return "\(param) = \(KeyNumbers.text(value))"
    }
}
