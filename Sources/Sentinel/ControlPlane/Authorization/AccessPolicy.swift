/// Who may issue which command on which target.
///
/// With no roles configured (the default), operators and the sentinel may do
/// everything, and scripts everything except `automation.*` and
/// `script.resume`, which need an operator. Once roles are configured,
/// anything not granted is denied (the sentinel's own automatic trial
/// promotions and rollbacks stay allowed).
///
/// ```swift
/// var access = AccessPolicy()
/// access.roles["canary"] = Role(grants: [Grant(commands: ["param.set"], targets: ["checkout.split.*"])])
/// access.assignments["script:canary"] = ["canary"]
/// ```
public struct AccessPolicy: Sendable, Hashable {
    /// Roles by name.
    public var roles: [String: Role]
    /// Identity patterns (`script:canary`, `operator:*`) to the roles they hold.
    public var assignments: [String: [String]] {
        didSet { compiled = Self.compile(assignments) }
    }

    /// The assignments with their patterns parsed once, not on every command.
    private var compiled: [CompiledAssignment]

    private struct CompiledAssignment: Sendable, Hashable {
        var pattern: NamePattern
        var roles: [String]
    }

    public init(roles: [String: Role] = [:], assignments: [String: [String]] = [:]) {
        self.roles = roles
        self.assignments = assignments
        compiled = Self.compile(assignments)
    }

    private static func compile(_ assignments: [String: [String]]) -> [CompiledAssignment] {
        assignments.map { CompiledAssignment(pattern: NamePattern($0.key), roles: $0.value) }
    }

    /// True once any role is configured: from then on, only grants allow.
    public var isConfigured: Bool { !roles.isEmpty }

    /// Nil when allowed, else the reason for the denial.
    public func denial(of identity: Identity, command: String, target: String?) -> String? {
        if identity.kind == .sentinel { return nil }
        guard isConfigured else {
            if identity.kind == .script, Self.operatorOnly.contains(where: { $0.matches(command) }) {
                return "\(command) needs an operator; \(identity) is a script"
            }
            return nil
        }
        let identityName = identity.auditName
        // Any grant allows, so the order does not matter until the refusal is worded.
        for assignment in compiled where assignment.pattern.matches(identityName) {
            for name in assignment.roles {
                if let role = roles[name], role.grants.contains(where: { $0.allows(command: command, target: target) }) {
                    return nil
                }
            }
        }
        let names = compiled.filter { $0.pattern.matches(identityName) }.flatMap(\.roles).sorted()
        if names.isEmpty { return "\(identity) has no role that grants \(command)" }
        let onTarget = target.map { " on \($0)" } ?? ""
        return "no role of \(identity) (\(names.joined(separator: ", "))) grants \(command)\(onTarget)"
    }

    /// The roles `identity` holds, sorted.
    public func roles(of identity: Identity) -> [String] {
        let name = identity.auditName
        return Set(compiled.filter { $0.pattern.matches(name) }.flatMap(\.roles)).sorted()
    }

    /// Whether some grant of `identity` covers `command` on some target (a
    /// grant may still restrict which targets): what an operator is offered.
    public func mayIssue(_ command: String, as identity: Identity) -> Bool {
        guard isConfigured, identity.kind != .sentinel else { return denial(of: identity, command: command, target: nil) == nil }
        return roles(of: identity).contains { name in
            roles[name]?.grants.contains { grant in grant.commands.contains { $0.matches(command) } } ?? false
        }
    }

    static let operatorOnly: [NamePattern] = ["automation.*", "script.resume"]
}

/// A named set of grants.
public struct Role: Sendable, Hashable {
    public var grants: [Grant]
    public init(grants: [Grant]) { self.grants = grants }
}

/// Allows commands matching ``commands`` on targets matching ``targets``
/// (any target when ``targets`` is nil).
public struct Grant: Sendable, Hashable {
    public var commands: [NamePattern]
    public var targets: [NamePattern]?

    public init(commands: [NamePattern], targets: [NamePattern]? = nil) {
        self.commands = commands
        self.targets = targets
    }

    func allows(command: String, target: String?) -> Bool {
        guard commands.contains(where: { $0.matches(command) }) else { return false }
        guard let targets else { return true }
        guard let target else { return false }
        return targets.contains { $0.matches(target) }
    }
}
