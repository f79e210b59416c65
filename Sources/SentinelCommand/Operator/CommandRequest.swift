import Sentinel

/// The body of `POST /v1/commands`: one control-plane command as an operator
/// issues it.
///
/// ```json
/// {"args":{},"command":"automation.freeze","dry_run":false,"idempotency_key":"5f0c…","reason":"incident 42"}
/// ```
struct CommandRequest: Sendable, Hashable {
    var command: String
    var args: [String: JSONValue]
    var reason: String?
    /// Sent on every command, so that a retried POST is not applied twice.
    var idempotencyKey: String
    var dryRun: Bool

    /// The JSON object (keys sorted).
    var json: JSONValue {
        var body: [String: JSONValue] = [
            "command": .string(command), "args": .object(args),
            "idempotency_key": .string(idempotencyKey), "dry_run": .bool(dryRun),
        ]
        if let reason { body["reason"] = .string(reason) }
        return .object(body)
    }

    /// The body's UTF-8 bytes.
    var jsonBytes: [UInt8] { Array(json.jsonString().utf8) }
}
