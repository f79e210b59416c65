/// One decision in the audit log: a command (applied, denied, rejected,
/// failed, or dry run), or a script lifecycle event (`script.load`,
/// `script.reload`, `script.unload`, `script.suspend`) or trial event
/// (`trial.promote`, `trial.rollback`, `trial.abort`).
///
/// Written as one JSON object per line with sorted keys:
/// `time` (RFC 3339), `actor` (`script:NAME`, `operator:ID`, `sentinel`),
/// `action`, `target`, `args`, `outcome`, `reason`, and `evidence` when the
/// decision carried some.
public struct AuditEntry: Sendable, Hashable {
    /// Seconds since the Unix epoch (virtual in `simulate`).
    public var time: Double
    /// Who asked: `script:NAME`, `operator:ID` or `sentinel`.
    public var actor: String
    /// The command or lifecycle event: `param.set`, `script.reload`, ...
    public var action: String
    /// What it acted on: a parameter, a pipeline, a script, a trial; nil when none.
    public var target: String?
    /// The arguments as given (a rejected NaN stays NaN).
    public var args: JSONValue
    public var outcome: AuditOutcome
    /// Why: the rule's reason, or why it was denied, rejected or failed.
    public var reason: String?
    /// What the decision rested on: inputs a rule read, thresholds, test results.
    public var evidence: JSONValue?
    /// Links the entries of one evaluation or one operator request.
    public var correlationID: String?
    /// What the command returned, when it returned something worth keeping.
    public var result: JSONValue?

    public init(
        time: Double, actor: String, action: String, target: String? = nil, args: JSONValue = .object([:]),
        outcome: AuditOutcome, reason: String? = nil, evidence: JSONValue? = nil, correlationID: String? = nil,
        result: JSONValue? = nil
    ) {
        self.time = time
        self.actor = actor
        self.action = action
        self.target = target
        self.args = args
        self.outcome = outcome
        self.reason = reason
        self.evidence = evidence
        self.correlationID = correlationID
        self.result = result
    }
}

/// How a decision ended.
public enum AuditOutcome: String, Sendable, Hashable, CaseIterable {
    /// The change was made (or the query answered, or the event happened).
    case applied
    /// The identity was not allowed, or automation is frozen.
    case denied
    /// The command was invalid or a guard refused it; nothing changed.
    case rejected
    /// The command was valid and allowed, but applying it failed; nothing changed.
    case failed
    /// The script runs in dry-run mode: recorded, not applied.
    case dryRun = "dry_run"
}
