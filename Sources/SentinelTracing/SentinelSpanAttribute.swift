import Sentinel

/// The names of the attributes on the sentinel's spans and their events (see ``AuditSpanSink``).
public enum SentinelSpanAttribute {
    // MARK: - On the span

    /// Who decided: `script:NAME`, `operator:ID` or `sentinel` (string; also on each event).
    public static let actor = "sentinel.actor"
    /// The script's name when a script decided (string).
    public static let script = "sentinel.script"
    /// Links the decisions of one evaluation (`NAME@NANOSECONDS`) or one operator request (string).
    public static let correlationID = "sentinel.correlation_id"
    /// The decisions on the span (int).
    public static let decisions = "sentinel.decisions"

    /// How many decisions on the span ended with `outcome` (int; only outcomes that occurred):
    /// `sentinel.applied`, `sentinel.denied`, `sentinel.rejected`, `sentinel.failed`, `sentinel.dry_run`.
    public static func count(of outcome: AuditOutcome) -> String { "sentinel.\(outcome.rawValue)" }

    // MARK: - On each event (named after the audit action: `param.set`, `trial.rollback`, ...)

    /// How the decision ended: `applied`, `denied`, `rejected`, `failed`, `dry_run` (string).
    public static let outcome = "sentinel.outcome"
    /// What it acted on: a knob, a pipeline, a script, a trial (string; absent when none).
    public static let target = "sentinel.target"
    /// Why: the rule's reason, or why it was denied, rejected or failed (string).
    public static let reason = "sentinel.reason"
    /// The command's arguments as JSON (string).
    public static let arguments = "sentinel.args"
    /// What the decision rested on, as JSON (string; when it carried evidence).
    public static let evidence = "sentinel.evidence"
    /// What the command returned, as JSON (string; when it returned something worth keeping).
    public static let result = "sentinel.result"
}
