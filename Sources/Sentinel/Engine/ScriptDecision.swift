/// A rule's decision, stated with `sentinel.decision{...}`: what it decided
/// about what, its verdict, why, and the evidence it read.
///
/// A decision issues no command: it makes the rule's reasoning visible next
/// to the commands that carry it out. `sentinel run` logs it at info,
/// `sentinel simulate` writes it as a `decision` event, and an embedder reads
/// it in ``ScriptEngine/Round/decisions``. Like commands, a decision counts
/// only when `evaluate` returns: when it raises, none of its decisions do.
///
/// ```lua
/// sentinel.decision{ action = "rollback", subject = "checkout.canary", verdict = "regression",
///                    reason = "errors 5.3% vs stable 0.6%", evidence = { canary_error_rate = 0.053 } }
/// ```
public struct ScriptDecision: Sendable, Hashable {
    /// What the rule decided.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// One step forward (a canary's next weight, a ramp's next rate).
        case advance
        /// Stay where it is: the data cannot tell yet, or a person has to answer.
        case hold
        /// Done: the candidate takes over.
        case promote
        /// Back to the known-good state.
        case rollback
    }

    /// Decisions one evaluation keeps; the ones past it are counted, and a log
    /// line at `warning` says how many were dropped.
    public static let maximumPerEvaluation = 100
    /// The longest `subject` and `verdict`, in characters: they are labels, not prose.
    public static let maximumLabelLength = 200
    /// The largest `evidence`, as bytes of JSON.
    public static let maximumEvidenceBytes = 65_536

    /// Unix seconds on the control plane's clock (the virtual epoch in `simulate`).
    public var time: Double
    /// `script:NAME`.
    public var source: String
    public var action: Action
    /// What the decision is about: a pipeline, a variant, a knob, a trial (`checkout.canary`).
    public var subject: String
    /// What the rule judged (`healthy`, `regression`, `inconclusive`), if it said.
    public var verdict: String?
    /// Why, at most ``ScriptEngine/maximumLoggedText`` characters.
    public var reason: String?
    /// The inputs the rule read, as it passed them (empty when it passed none).
    public var evidence: [String: JSONValue]
    /// Whether the script runs in dry run (its commands are audited, not applied).
    public var dryRun: Bool

    public init(
        time: Double, source: String, action: Action, subject: String, verdict: String? = nil, reason: String? = nil,
        evidence: [String: JSONValue] = [:], dryRun: Bool = false
    ) {
        self.time = time
        self.source = source
        self.action = action
        self.subject = subject
        self.verdict = verdict
        self.reason = reason
        self.evidence = evidence
        self.dryRun = dryRun
    }

    /// The script's name: `source` without `script:`.
    public var script: String {
        source.hasPrefix("script:") ? String(source.dropFirst(7)) : source
    }
}
