import Resilience

/// Gates in the state file (under `extensions.approvals`): a restart keeps a
/// pending gate pending and an answered one answered.
extension ApprovalGates {
    /// Every gate, for the state file.
    public func persisted() -> JSONValue {
        .array(all.values.sorted { $0.name < $1.name }.map(\.jsonValue))
    }

    /// Puts back the gates of a state file; returns one line per gate that
    /// could not be read (it is left out, never half restored). With
    /// `replacing`, gates not in `value` are dropped (a fleet's follower holds
    /// exactly its leader's gates).
    @discardableResult
    public func restore(_ value: JSONValue, replacing: Bool = false) -> [String] {
        guard case .array(let items) = value else { return ["approvals: expected a list"] }
        var problems: [String] = []
        var restored: [String: ApprovalGate] = [:]
        for item in items {
            let fields = item.objectValue ?? [:]
            let name = fields["name"]?.stringValue ?? ""
            guard ApprovalGate.isValidName(name),
                let status = fields["status"]?.stringValue.flatMap(ApprovalGate.Status.init(rawValue:)),
                let requestedBy = fields["requested_by"]?.stringValue,
                let requestedAt = fields["requested_at"]?.stringValue.flatMap(RFC3339.unixSeconds(from:))
            else {
                problems.append("approval gate \(name.excerpt()): not restored: a field is missing or not readable")
                continue
            }
            restored[name] = ApprovalGate(
                name: name, status: status, requestedBy: requestedBy, requestedAt: requestedAt,
                message: fields["message"]?.stringValue, answeredBy: fields["answered_by"]?.stringValue,
                answeredAt: fields["answered_at"]?.stringValue.flatMap(RFC3339.unixSeconds(from:)),
                reason: fields["reason"]?.stringValue)
        }
        gates.withLock { gates in
            if replacing { gates = restored } else { gates.merge(restored) { _, saved in saved } }
        }
        return problems
    }
}
