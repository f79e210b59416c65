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

    public var kind: Kind { didSet { auditName = Self.auditName(kind, name) } }
    public var name: String { didSet { auditName = Self.auditName(kind, name) } }
    /// `operator:ID`, `script:NAME` or `sentinel`: kept, not built on each
    /// read, since every command's audit entry and last-change record asks.
    public private(set) var auditName: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
        auditName = Self.auditName(kind, name)
    }

    private static func auditName(_ kind: Kind, _ name: String) -> String {
        kind == .sentinel ? "sentinel" : kind.rawValue + ":" + name
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

    public var description: String { auditName }
}
