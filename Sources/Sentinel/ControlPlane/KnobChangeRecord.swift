/// Who last changed a knob through the control plane, when and why (the
/// admin API's `last_change`).
public struct KnobChangeRecord: Sendable, Hashable {
    /// `script:NAME`, `operator:ID` or `sentinel`.
    public var actor: String
    /// Unix seconds (the plane's audit time).
    public var time: Double
    /// The command's or the decision's reason.
    public var reason: String?

    public init(actor: String, time: Double, reason: String?) {
        self.actor = actor
        self.time = time
        self.reason = reason
    }

    /// `{ actor, time, reason }` with an RFC 3339 time.
    public var jsonValue: JSONValue {
        ["actor": .string(actor), "time": .string(RFC3339.string(fromUnixSeconds: time)), "reason": reason.map { .string($0) } ?? .null]
    }
}
