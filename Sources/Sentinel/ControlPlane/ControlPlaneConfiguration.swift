import Resilience
import ScriptHost

/// Roles, grants, guards and script limits, from a YAML file
/// (`sentinel run --config`) or built in Swift.
///
/// ```yaml
/// roles:
///   canary:
///     - commands: [param.set]
///       targets: ["checkout.split.*"]
///   incident:
///     - commands: ["*"]
/// assignments:
///   "script:canary": [canary]
///   "operator:*": [incident]
/// guards:
///   - params: "checkout.split.canary_weight"
///     max_step_up: 25          # a ramp goes up 25 points at most per change
///     min_interval: 30s
/// max_commands_per_evaluation: 20
/// limits:
///   instructions: 1000000
///   deadline: 50ms
///   memory: 16MiB
/// ```
public struct ControlPlaneConfiguration: Sendable, Hashable {
    public var access: AccessPolicy
    public var guards: GuardPolicy
    /// The limits of every script call.
    public var limits: ScriptLimits

    public init(access: AccessPolicy = AccessPolicy(), guards: GuardPolicy = GuardPolicy(), limits: ScriptLimits = .default) {
        self.access = access
        self.guards = guards
        self.limits = limits
    }

    /// The top-level fields this configuration reads.
    public static let fieldNames: Set<String> = ["roles", "assignments", "guards", "max_commands_per_evaluation", "limits"]

    /// Reads a configuration from YAML text; errors name the file, line and field.
    ///
    /// - Parameter otherSections: top-level sections of the same file that
    ///   another module reads (`sentinel run` passes `["notifications"]`,
    ///   which SentinelAdmin's `NotificationConfiguration` reads): accepted
    ///   here and not looked into. Any other unknown field is an error.
    public init(yaml: String, file: String? = nil, otherSections: Set<String> = []) throws(ConfigurationError) {
        try self.init(node: YAMLValue.parse(yaml, file: file), otherSections: otherSections)
    }

    /// Reads a configuration from a YAML node (a whole file, or a section of a
    /// larger one such as a scenario's `control:`); errors name the field path.
    ///
    /// - Parameter otherSections: top-level fields another reader of the same
    ///   node owns; accepted here and left to it.
    public init(node root: YAMLValue, otherSections: Set<String> = []) throws(ConfigurationError) {
        self.init()
        if root.isNull { return }
        let fields = try root.fields(allowing: Self.fieldNames.union(otherSections))
        if let roles = fields["roles"] {
            for (name, grantsNode) in try roles.mapping() {
                var grants: [Grant] = []
                for grantNode in try grantsNode.sequence() {
                    let grant = try grantNode.fields(allowing: ["commands", "targets"])
                    guard let commands = grant["commands"] else { throw grantNode.error("a grant needs 'commands'") }
                    let targets = try grant["targets"].map { (node) throws(ConfigurationError) in
                        try node.namePatterns(of: "knob names")
                    }
                    grants.append(Grant(commands: try commands.namePatterns(of: "command names"), targets: targets))
                }
                access.roles[name] = Role(grants: grants)
            }
        }
        if let assignments = fields["assignments"] {
            for (identity, rolesNode) in try assignments.mapping() {
                guard identity == "sentinel" || identity.hasPrefix("script:") || identity.hasPrefix("operator:") else {
                    throw rolesNode.error("an identity is script:NAME or operator:ID (patterns allowed), got \"\(identity)\"")
                }
                var names: [String] = []
                for roleNode in try rolesNode.sequence() {
                    let role = try roleNode.string()
                    guard access.roles[role] != nil else { throw roleNode.error("no role named \"\(role)\" is defined") }
                    names.append(role)
                }
                access.assignments[identity] = names
            }
        }
        if let guardsNode = fields["guards"] {
            for guardNode in try guardsNode.sequence() {
                let fields = try guardNode.fields(
                    allowing: ["params", "min", "max", "max_step_up", "max_step_down", "min_interval"])
                guard let params = fields["params"] else { throw guardNode.error("a guard needs 'params' (a knob name pattern)") }
                guard !params.isNull else {
                    throw params.error("a guard needs a knob name pattern such as \"checkout.split.*\", got nothing")
                }
                var rule = ParameterGuard(pattern: try params.namePattern(of: "knob names"))
                rule.minimum = try fields["min"]?.double(in: .guardBound)
                rule.maximum = try fields["max"]?.double(in: .guardBound)
                rule.maxStepUp = try fields["max_step_up"]?.double(in: .guardStep)
                rule.maxStepDown = try fields["max_step_down"]?.double(in: .guardStep)
                rule.minInterval = try fields["min_interval"]?.duration()
                if let minimum = rule.minimum, let maximum = rule.maximum, minimum > maximum {
                    throw guardNode.error("min (\(minimum)) is above max (\(maximum))")
                }
                guards.parameters.append(rule)
            }
        }
        if let limit = fields["max_commands_per_evaluation"] {
            guard (try? limit.int()).map({ $0 >= 1 }) ?? true else { throw limit.error("must be at least 1") }
            guards.maxCommandsPerEvaluation = try limit.int(in: .commandsPerEvaluation)
        }
        if let limitsNode = fields["limits"] {
            let fields = try limitsNode.fields(allowing: ["instructions", "deadline", "memory"])
            if let node = fields["instructions"] { limits.instructions = try node.int(in: .scriptInstructions) }
            if let node = fields["deadline"] { limits.deadline = try node.duration(in: .scriptDeadline) }
            if let node = fields["memory"] { limits.memory = try node.byteSize(in: .scriptMemory) }
        }
    }
}

extension YAMLValue {
    /// One name pattern (`checkout.split.*`, `param.*`, `*`): letters, digits,
    /// `_`, `-`, `.`, `:` and `*`; never empty or null, which would match nothing.
    func namePattern(of what: String) throws(ConfigurationError) -> NamePattern {
        guard !isNull else { throw error("expected a pattern of \(what) such as \"checkout.*\", got nothing") }
        let text = try string()
        guard !text.isEmpty, text.utf8.count <= 256,
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.:*".contains($0)) })
        else {
            throw error("\"\(Self.quotePrefix(text))\" is not a pattern of \(what) (letters, digits, _ - . : and * as a wildcard)")
        }
        return NamePattern(text)
    }

    /// A non-empty list of name patterns (a single pattern counts as a list of one).
    func namePatterns(of what: String) throws(ConfigurationError) -> [NamePattern] {
        guard !isNull else { throw error("expected a list of patterns of \(what), got nothing (it would match nothing)") }
        let items = try sequence()
        guard !items.isEmpty else { throw error("expected a list of patterns of \(what), got an empty list (it would match nothing)") }
        var patterns: [NamePattern] = []
        for item in items { patterns.append(try item.namePattern(of: what)) }
        return patterns
    }
}
