/// What happened to one command.
public struct CommandOutcome: Sendable, Hashable {
    public var outcome: AuditOutcome
    /// What the command returned, when applied.
    public var result: JSONValue?
    /// Why it did not apply.
    public var error: CommandError?
    /// The audit entry written for it (nil for successful queries, which are not audited).
    public var entry: AuditEntry?
    /// True when this is the stored outcome of an earlier command with the same idempotency key.
    public var repeated: Bool = false

    public init(outcome: AuditOutcome, result: JSONValue?, error: CommandError?, entry: AuditEntry?) {
        self.outcome = outcome
        self.result = result
        self.error = error
        self.entry = entry
    }
}
