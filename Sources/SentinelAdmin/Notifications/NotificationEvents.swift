import Sentinel

/// Which events an endpoint receives: alerts from a minimum severity, audit
/// entries by action and outcome, approval requests. An event that matches
/// several of them is sent once.
///
/// ```swift
/// NotificationEvents(
///     minimumAlertSeverity: .warning,
///     audit: [.init(actions: ["trial.*", "approval.grant", "approval.deny"], outcomes: [.applied])],
///     approvals: true)
/// ```
public struct NotificationEvents: Sendable, Hashable {
    /// Audit entries whose action matches one of `actions` and whose outcome
    /// is one of `outcomes` (every outcome when nil).
    public struct AuditRule: Sendable, Hashable {
        public var actions: [NamePattern]
        public var outcomes: Set<AuditOutcome>?

        public init(actions: [NamePattern], outcomes: Set<AuditOutcome>? = nil) {
            self.actions = actions
            self.outcomes = outcomes
        }

        func matches(_ entry: AuditEntry) -> Bool {
            (outcomes?.contains(entry.outcome) ?? true) && actions.contains { $0.matches(entry.action) }
        }
    }

    /// Alerts at this severity or above; nil: no alerts.
    public var minimumAlertSeverity: Alert.Severity?
    /// Audit entries matching any rule.
    public var audit: [AuditRule]
    /// `approval.request`: once per gate a script opens.
    public var approvals: Bool

    public init(minimumAlertSeverity: Alert.Severity? = nil, audit: [AuditRule] = [], approvals: Bool = false) {
        self.minimumAlertSeverity = minimumAlertSeverity
        self.audit = audit
        self.approvals = approvals
    }

    /// Whether nothing at all is selected.
    public var isEmpty: Bool { minimumAlertSeverity == nil && audit.isEmpty && !approvals }

    /// Whether `event` goes to the endpoint.
    public func matches(_ event: NotificationEvent) -> Bool {
        switch event {
        case .alert(let alert):
            guard let minimum = minimumAlertSeverity else { return false }
            return alert.severity.rank >= minimum.rank
        case .approvalRequest(let entry):
            return approvals || audit.contains { $0.matches(entry) }
        case .audit(let entry):
            return audit.contains { $0.matches(entry) }
        }
    }
}

extension Alert.Severity {
    /// info 0 < warning 1 < critical 2.
    var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }
}
