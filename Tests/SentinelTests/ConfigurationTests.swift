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
        (
            "gaurds: []\n",
            "sentinel.yaml:1: gaurds: unknown field (expected one of: assignments, guards, limits, max_commands_per_evaluation, roles)"
        ),
        ("assignments:\n  \"script:x\": [ghost]\n", "sentinel.yaml:2: assignments.script:x[1]: no role named \"ghost\" is defined"),
        (
            "limits:\n  deadline: soon\n",
            "sentinel.yaml:2: limits.deadline: expected a duration like \"250ms\", \"5s\", \"2m\", got \"soon\""
        ),
        ("guards:\n  - params: x\n    min: 5\n    max: 1\n", "sentinel.yaml:2: guards[1]: min (5.0) is above max (1.0)"),
        ("roles: [\n", "sentinel.yaml:2: not valid YAML"),
        ("max_commands_per_evaluation: 0\n", "sentinel.yaml:1: max_commands_per_evaluation: must be at least 1"),
        ("max_commands_per_evaluation: 1e30\n", "sentinel.yaml:1: max_commands_per_evaluation: 1e30 is out of range"),
        (
            "guards:\n  - params: \"*\"\n    min_interval: 99999999999h\n",
            "sentinel.yaml:3: guards[1].min_interval: 3.6e14 s is out of range (expected from 0s to 365 days)"
        ),
        ("guards:\n  - params: \"*\"\n    min_interval: -5s\n", "sentinel.yaml:3: guards[1].min_interval: a duration cannot be negative"),
        ("guards:\n  - params: ~\n", "sentinel.yaml:2: guards[1].params: a guard needs a knob name pattern"),
        ("guards:\n  - params: \"check out\"\n", "sentinel.yaml:2: guards[1].params: \"check out\" is not a pattern of knob names"),
        (
            "roles:\n  r:\n    - commands: ~\n",
            "sentinel.yaml:3: roles.r[1].commands: expected a list of patterns of command names, got nothing"
        ),
        (
            "roles:\n  r:\n    - commands: []\n",
            "sentinel.yaml:3: roles.r[1].commands: expected a list of patterns of command names, got an empty list"
        ),
        (
            "roles:\n  r:\n    - commands: [\"*\"]\n      targets: []\n",
            "sentinel.yaml:4: roles.r[1].targets: expected a list of patterns of knob names, got an empty list"
        ),
        (
            "limits:\n  memory: 1e30GiB\n",
            "sentinel.yaml:2: limits.memory: 1e30GiB is out of range (expected a whole number from 256KiB to 64GiB)"
        ),
        ("limits:\n  memory: infGiB\n", "sentinel.yaml:2: limits.memory: inf is not a finite number"),
        ("limits:\n  memory: 100KiB\n", "sentinel.yaml:2: limits.memory: 100KiB is out of range"),
        ("limits:\n  deadline: 1.79e308\n", "sentinel.yaml:2: limits.deadline: 1.79e308 s is out of range (expected from 1ms to 1m)"),
        ("limits:\n  instructions: 99999999999999999999\n", "sentinel.yaml:2: limits.instructions: 1e20 is out of range"),
        ("guards: []\nguards: []\n", "sentinel.yaml:1: not valid YAML: duplicate key \"guards\" in a mapping"),
        ("guards: [\u{1}]\n", "sentinel.yaml:1: not valid YAML: control characters are not allowed"),
        ("a: &a [1, 2]\nb: &b [*a, *a]\n? *b\n: 1\n", "sentinel.yaml:3: a mapping key must be a plain string in a document with aliases"),
    ])
    func badFieldIsNamed(yaml: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            _ = try ControlPlaneConfiguration(yaml: yaml, file: "sentinel.yaml")
        }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test func aYAMLFileIsBoundedBeforeItIsExpanded() {
        func refusal(_ text: String) -> String? {
            do {
                _ = try ControlPlaneConfiguration(yaml: text, file: "big.yaml")
                return nil
            } catch {
                return error.description
            }
        }
        let megabyte = "guards: []\n" + String(repeating: "# padding\n", count: 110_000)
        #expect(refusal(megabyte)?.hasPrefix("big.yaml:1: the file is") == true)
        let aliases = "a: &a 1\nb: [" + Array(repeating: "*a", count: 101).joined(separator: ", ") + "]\n"
        #expect(refusal(aliases)?.contains("101 alias references") == true)
        let hundredAliases = "a: &a 1\nb: [" + Array(repeating: "*a", count: 100).joined(separator: ", ") + "]\n"
        #expect(refusal(hundredAliases)?.contains("unknown field") == true, "100 aliases are within the limit")
        let deep = "guards: " + String(repeating: "[", count: 201) + String(repeating: "]", count: 201) + "\n"
        #expect(refusal(deep)?.contains("nests deeper than 200 levels") == true)
        var laughs = ["l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
        for level in 1..<7 {
            laughs.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        #expect(refusal(laughs.joined(separator: "\n"))?.contains("expands to more than 100000 nodes") == true)
    }
}
