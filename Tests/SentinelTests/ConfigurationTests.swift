import Testing

@testable import Sentinel

/// The YAML configuration: every field, and errors that name file, line and field.
@Suite struct ConfigurationTests {
    static let example = """
        roles:
          canary:
            - commands: [param.set]
              targets: ["checkout.split.*"]
          admin:
            - commands: ["*"]
        assignments:
          "script:canary": [canary]
          "operator:*": [admin]
        guards:
          - params: "checkout.split.canary_weight"
            max_step_up: 25
            min_interval: 30s
          - params: "*.retry.max_attempts"
            min: 1
            max: 5
        max_commands_per_evaluation: 20
        limits:
          instructions: 2000000
          deadline: 20ms
          memory: 8MiB
        """

    @Test func readsEveryField() throws {
        let configuration = try ControlPlaneConfiguration(yaml: Self.example, file: "sentinel.yaml")
        #expect(configuration.access.roles["canary"]?.grants == [Grant(commands: ["param.set"], targets: ["checkout.split.*"])])
        #expect(configuration.access.assignments["operator:*"] == ["admin"])
        #expect(configuration.guards.parameters.count == 2)
        #expect(configuration.guards.parameters[0].maxStepUp == 25)
        #expect(configuration.guards.parameters[0].minInterval == .seconds(30))
        #expect(configuration.guards.parameters[1].minimum == 1)
        #expect(configuration.guards.maxCommandsPerEvaluation == 20)
        #expect(configuration.limits.instructions == 2_000_000)
        #expect(configuration.limits.deadline == .milliseconds(20))
        #expect(configuration.limits.memory == 8 << 20)
    }

    @Test func emptyFileMeansDefaults() throws {
        let configuration = try ControlPlaneConfiguration(yaml: "", file: "empty.yaml")
        #expect(!configuration.access.isConfigured)
        #expect(configuration.guards == GuardPolicy())
    }

    @Test(arguments: [
        ("guards:\n  - params: x\n    max_step_up: lots\n", "sentinel.yaml:3: guards[1].max_step_up: expected a number, got \"lots\""),
        ("guards:\n  - max_step_up: 3\n", "sentinel.yaml:2: guards[1]: a guard needs 'params' (a knob name pattern)"),
        ("gaurds: []\n", "sentinel.yaml:1: gaurds: unknown field (expected one of: assignments, guards, limits, max_commands_per_evaluation, roles)"),
        ("assignments:\n  \"script:x\": [ghost]\n", "sentinel.yaml:2: assignments.script:x[1]: no role named \"ghost\" is defined"),
        ("limits:\n  deadline: soon\n", "sentinel.yaml:2: limits.deadline: expected a duration like \"250ms\", \"5s\", \"2m\", got \"soon\""),
        ("guards:\n  - params: x\n    min: 5\n    max: 1\n", "sentinel.yaml:2: guards[1]: min (5.0) is above max (1.0)"),
        ("roles: [\n", "sentinel.yaml:2: not valid YAML"),
        ("max_commands_per_evaluation: 0\n", "sentinel.yaml:1: max_commands_per_evaluation: must be at least 1"),
    ])
    func badFieldIsNamed(yaml: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ControlPlaneConfiguration(yaml: yaml, file: "sentinel.yaml")
        }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }
}
