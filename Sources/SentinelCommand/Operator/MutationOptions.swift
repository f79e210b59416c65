import ArgumentParser
import Sentinel

/// The options every command that changes something takes: why, whether only
/// to try it, and the key that makes a retry safe.
struct MutationOptions: ParsableArguments {
    @Option(help: "Why: goes into the audit entry (required for freeze, set and deny).")
    var reason: String?

    @Flag(name: .customLong("dry-run"), help: "Authorize, guard and audit as dry_run; apply nothing.")
    var dryRun = false

    @Option(
        name: .customLong("idempotency-key"),
        help: "Key of this command: the server answers a repeat with the first answer (default: a random key).")
    var idempotencyKey: String?

    @Flag(help: "Print the server's JSON answer as received.")
    var json = false

    /// The reason, trimmed; nil when missing or blank.
    var givenReason: String? {
        guard let reason else { return nil }
        let trimmed = reason.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Refuses a missing or blank `--reason` (a usage error, exit 2).
    func requireReason(for command: String) throws {
        guard givenReason != nil else {
            throw ValidationError("--reason is required for \(command): say why (it goes into the audit)")
        }
    }

    func validate() throws {
        if let idempotencyKey {
            guard !idempotencyKey.isEmpty, idempotencyKey.count <= 128 else {
                throw ValidationError("--idempotency-key: expected 1 to 128 characters")
            }
        }
    }

    /// The request for `command` with `args`, with these options.
    func request(_ command: String, args: [String: JSONValue] = [:]) -> CommandRequest {
        CommandRequest(
            command: command, args: args, reason: givenReason,
            idempotencyKey: idempotencyKey ?? Self.randomKey(), dryRun: dryRun)
    }

    /// 16 random bytes as 32 lowercase hex characters: a UUID's worth of randomness.
    static func randomKey() -> String { Hex.random(byteCount: 16) }
}
