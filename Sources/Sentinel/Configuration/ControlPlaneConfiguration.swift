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

    /// Reads a configuration from YAML text; errors name the file, line and field.
    public init(yaml: String, file: String? = nil) throws(ConfigurationError) {
        try self.init(node: YAMLValue.parse(yaml, file: file))
    }

    /// Reads a configuration from a YAML node (a whole file, or a section of a
    /// larger one such as a scenario's `control:`); errors name the field path.
    public init(node root: YAMLValue) throws(ConfigurationError) {
        self.init()
        if root.isNull { return }
        let fields = try root.fields(allowing: ["roles", "assignments", "guards", "max_commands_per_evaluation", "limits"])
        if let roles = fields["roles"] {
            for (name, grantsNode) in try roles.mapping() {
                var grants: [Grant] = []
                for grantNode in try grantsNode.sequence() {
                    let grant = try grantNode.fields(allowing: ["commands", "targets"])
                    guard let commands = grant["commands"] else { throw grantNode.error("a grant needs 'commands'") }
                    var targets: [NamePattern]? = nil
                    if let targetNode = grant["targets"] {
                        var patterns: [NamePattern] = []
                        for target in try targetNode.sequence() { patterns.append(NamePattern(try target.string())) }
                        targets = patterns
                    }
                    var commandPatterns: [NamePattern] = []
                    for command in try commands.sequence() { commandPatterns.append(NamePattern(try command.string())) }
                    grants.append(Grant(commands: commandPatterns, targets: targets))
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
                var rule = ParameterGuard(pattern: NamePattern(try params.string()))
                rule.minimum = try fields["min"]?.double()
                rule.maximum = try fields["max"]?.double()
                rule.maxStepUp = try fields["max_step_up"]?.nonNegative()
                rule.maxStepDown = try fields["max_step_down"]?.nonNegative()
                rule.minInterval = try fields["min_interval"]?.duration()
                if let minimum = rule.minimum, let maximum = rule.maximum, minimum > maximum {
                    throw guardNode.error("min (\(minimum)) is above max (\(maximum))")
                }
                guards.parameters.append(rule)
            }
        }
        if let limit = fields["max_commands_per_evaluation"] {
            let value = try limit.int()
            guard value > 0 else { throw limit.error("must be at least 1") }
            guards.maxCommandsPerEvaluation = value
        }
        if let limitsNode = fields["limits"] {
            let fields = try limitsNode.fields(allowing: ["instructions", "deadline", "memory"])
            if let node = fields["instructions"] {
                let value = try node.int()
                guard value >= 1000 else { throw node.error("at least 1000 instructions") }
                limits.instructions = value
            }
            if let node = fields["deadline"] {
                let value = try node.duration()
                guard value >= .milliseconds(1) else { throw node.error("at least 1ms") }
                limits.deadline = value
            }
            if let node = fields["memory"] {
                let value = try node.byteSize()
                guard value >= 256 * 1024 else { throw node.error("at least 256KiB") }
                limits.memory = value
            }
        }
    }
}

extension YAMLValue {
    func nonNegative() throws(ConfigurationError) -> Double {
        let value = try double()
        guard value >= 0 else { throw error("cannot be negative") }
        return value
    }
}
