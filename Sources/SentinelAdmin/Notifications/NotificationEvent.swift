import Sentinel

/// Something worth telling a person: an alert, an audit entry, or a gate a
/// script opened (the `approval.request` entry).
public enum NotificationEvent: Sendable, Hashable {
    case alert(Alert)
    case audit(AuditEntry)
    /// An `approval.request` audit entry: the target is the gate.
    case approvalRequest(AuditEntry)

    /// The event for an audit entry (`approval.request` is an approval request).
    public init(_ entry: AuditEntry) {
        self = entry.action == "approval.request" ? .approvalRequest(entry) : .audit(entry)
    }

    /// `alert`, `audit` or `approval.request`: the JSON body's `event`.
    public var kind: String {
        switch self {
        case .alert: "alert"
        case .audit: "audit"
        case .approvalRequest: "approval.request"
        }
    }

    /// Unix seconds.
    public var time: Double {
        switch self {
        case .alert(let alert): alert.time
        case .audit(let entry), .approvalRequest(let entry): entry.time
        }
    }

    /// For logs: `alert from script:NAME`, `audit param.set applied`, `approval.request release`.
    public var label: String {
        switch self {
        case .alert(let alert): "alert from \(alert.source)"
        case .audit(let entry): "audit \(entry.action) \(entry.outcome.rawValue)"
        case .approvalRequest(let entry): "approval.request \(entry.target ?? "?")"
        }
    }

    /// The pipeline the event is about, when it says: an alert's `pipeline`
    /// field; an entry's `pipeline` argument, else the first part of the knob
    /// it changed (`checkout` of `checkout.split.canary_weight`).
    public var pipeline: String? {
        switch self {
        case .alert(let alert):
            return alert.fields["pipeline"]?.stringValue
        case .audit(let entry), .approvalRequest(let entry):
            if let pipeline = entry.args["pipeline"].stringValue ?? entry.evidence?["pipeline"].stringValue { return pipeline }
            let knob =
                entry.args["param"].stringValue
                ?? (entry.action.hasPrefix("param.") || entry.action.hasPrefix("shadow.") ? entry.target : nil)
            guard let knob, let dot = knob.firstIndex(of: "."), dot != knob.startIndex else { return nil }
            return String(knob[..<dot])
        }
    }
}
