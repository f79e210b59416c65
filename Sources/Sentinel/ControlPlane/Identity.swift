/// Who issues a command: an operator, a script, or the sentinel itself
/// (automatic trial promotions and rollbacks).
///
/// The audit's `actor` is ``auditName``: `operator:ID`, `script:NAME`, `sentinel`.
public struct Identity: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case `operator`
        case script
        case sentinel
    }

    public var kind: Kind
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public static func script(_ name: String) -> Identity { Identity(kind: .script, name: name) }
    public static func `operator`(_ id: String) -> Identity { Identity(kind: .operator, name: id) }
    public static let sentinel = Identity(kind: .sentinel, name: "sentinel")

    /// Parses `operator:ID`, `script:NAME` or `sentinel`.
    public init?(auditName: String) {
        if auditName == "sentinel" {
            self = .sentinel
            return
        }
        guard let colon = auditName.firstIndex(of: ":") else { return nil }
        let name = String(auditName[auditName.index(after: colon)...])
        switch auditName[..<colon] {
        case "operator" where !name.isEmpty: self = .operator(name)
        case "script" where !name.isEmpty: self = .script(name)
        default: return nil
        }
    }

    /// `operator:ID`, `script:NAME` or `sentinel`.
    public var auditName: String {
        kind == .sentinel ? "sentinel" : "\(kind.rawValue):\(name)"
    }

    public var description: String { auditName }
}
