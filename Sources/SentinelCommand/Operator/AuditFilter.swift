import Sentinel

/// The filters of `sentinel audit`, applied on our side to the entries that
/// `--follow` reads from the event stream (the server applies the same ones
/// to `GET /v1/audit`).
///
/// As the audit's own query (`AuditQuery`): `actor` and `action` match
/// exactly, or as a prefix when they end in `*` (`script:*`, `trial.*`);
/// `outcome` matches exactly; `since` ≤ time < `until`.
struct AuditFilter: Sendable, Hashable {
    var actor: String?
    var action: String?
    var outcome: String?
    /// Unix seconds.
    var since: Double?
    /// Unix seconds.
    var until: Double?

    /// Whether an entry (a JSON object as in the audit log) passes every filter that is set.
    func matches(_ entry: JSONValue) -> Bool {
        if let actor, !Self.matches(actor, entry["actor"].stringValue) { return false }
        if let action, !Self.matches(action, entry["action"].stringValue) { return false }
        if let outcome, entry["outcome"].stringValue != outcome { return false }
        if since != nil || until != nil {
            guard let text = entry["time"].stringValue, let time = RFC3339.unixSeconds(from: text) else { return false }
            if let since, time < since { return false }
            if let until, time >= until { return false }
        }
        return true
    }

    private static func matches(_ pattern: String, _ value: String?) -> Bool {
        guard let value else { return false }
        if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
        return value == pattern
    }
}
