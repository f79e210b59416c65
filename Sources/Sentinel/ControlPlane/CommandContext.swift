/// Everything a command carries besides its arguments: who asks, from where,
/// why, with what evidence, and how to recognise a repeat.
public struct CommandContext: Sendable {
    /// Who issues the command; authorization and the audit's `actor` use it.
    public var identity: Identity
    /// Where it came from: `lua`, `cli`, `http`, `trial`, ... (free text).
    public var source: String
    /// Why (the rule's reason). Goes to the audit's `reason` when applied.
    public var reason: String?
    /// What the decision rested on; kept in the audit entry.
    public var evidence: JSONValue?
    /// Links related entries (one evaluation, one operator request).
    public var correlationID: String?
    /// A command repeated with the same key applies once; the repeat returns
    /// the first outcome.
    public var idempotencyKey: String?
    /// Record as `dry_run` and change nothing.
    public var dryRun: Bool
    /// The 1-based position of this command among those of one evaluation,
    /// for the commands-per-evaluation guard; nil outside evaluations.
    public var positionInEvaluation: Int?

    public init(
        identity: Identity, source: String = "api", reason: String? = nil, evidence: JSONValue? = nil,
        correlationID: String? = nil, idempotencyKey: String? = nil, dryRun: Bool = false,
        positionInEvaluation: Int? = nil
    ) {
        self.identity = identity
        self.source = source
        self.reason = reason
        self.evidence = evidence
        self.correlationID = correlationID
        self.idempotencyKey = idempotencyKey
        self.dryRun = dryRun
        self.positionInEvaluation = positionInEvaluation
    }
}
