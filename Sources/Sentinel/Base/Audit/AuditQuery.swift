/// Which audit entries to return from ``AuditLog/entries(matching:)``.
///
/// Every field that is set must match; unset fields match everything.
/// `actor`, `action` and `target` match exactly, or, when they end with `*`,
/// as a prefix: `"script:*"`, `"trial.*"`, `"checkout.*"`.
///
/// ```swift
/// let rollbacks = audit.entries(matching: AuditQuery(action: "trial.rollback", limit: 10))
/// let refused = audit.entries(matching: AuditQuery(actor: "script:*", outcomes: [.denied, .rejected]))
/// ```
public struct AuditQuery: Sendable, Hashable {
    /// `script:NAME`, `operator:ID`, `sentinel`, or a prefix ending in `*`.
    public var actor: String?
    /// A command or event name, or a prefix ending in `*`.
    public var action: String?
    /// A parameter, pipeline, script or trial, or a prefix ending in `*`.
    public var target: String?
    /// The outcomes wanted; nil for all.
    public var outcomes: Set<AuditOutcome>?
    /// Only the entries of one evaluation or request.
    public var correlationID: String?
    /// Entries at or after this Unix time.
    public var since: Double?
    /// Entries before this Unix time.
    public var until: Double?
    /// At most this many entries: the newest ones.
    public var limit: Int?

    /// Makes a query; every field defaults to "any".
    public init(
        actor: String? = nil, action: String? = nil, target: String? = nil, outcomes: Set<AuditOutcome>? = nil,
        correlationID: String? = nil, since: Double? = nil, until: Double? = nil, limit: Int? = nil
    ) {
        self.actor = actor
        self.action = action
        self.target = target
        self.outcomes = outcomes
        self.correlationID = correlationID
        self.since = since
        self.until = until
        self.limit = limit
    }

    /// True when `entry` matches every field that is set (``limit`` aside).
    public func matches(_ entry: AuditEntry) -> Bool {
        if let actor, !Self.matches(actor, entry.actor) { return false }
        if let action, !Self.matches(action, entry.action) { return false }
        if let target {
            guard let entryTarget = entry.target, Self.matches(target, entryTarget) else { return false }
        }
        if let outcomes, !outcomes.contains(entry.outcome) { return false }
        if let correlationID, entry.correlationID != correlationID { return false }
        if let since, !(entry.time >= since) { return false }
        if let until, !(entry.time < until) { return false }
        return true
    }

    private static func matches(_ pattern: String, _ value: String) -> Bool {
        if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
        return pattern == value
    }
}
