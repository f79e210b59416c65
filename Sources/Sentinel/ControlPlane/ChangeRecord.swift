import Resilience

/// The audit entry of an automatic change: what it is and why.
public struct ChangeRecord: Sendable, Hashable {
    public var action: String
    public var target: String?
    public var args: JSONValue
    public var reason: String?
    public var evidence: JSONValue?

    public init(action: String, target: String?, args: JSONValue = .object([:]), reason: String?, evidence: JSONValue? = nil) {
        self.action = action
        self.target = target
        self.args = args
        self.reason = reason
        self.evidence = evidence
    }
}
