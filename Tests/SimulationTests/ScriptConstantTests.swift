import Sentinel
import Testing

@testable import Simulation

/// A scenario's `constants`: the literal of `local NAME = ...` changes for the
/// run, nothing else in the script does, and anything that does not fit is
/// refused naming the scenario's line and the script's.
@Suite struct ScriptConstantTests {
    static let script = """
        -- a rule with options
        local ENABLED = false   -- turn it on
        local LIMIT = 3
        local LABEL = 'plain "quoted" -- not a comment'
        local RATE = -1.5e-3 -- per second
        local NAME = "x" .. "y"
        local LIMITS = { 1, 2 }
        return { interval = "1s", evaluate = function() end }
        """

    static func rewrite(_ overrides: [String: JSONValue], in source: String = script) throws(ConfigurationError) -> String {
        let list = overrides.keys.sorted().map { ConstantOverride(file: "rule.lua", name: $0, value: overrides[$0]!) }
        return String(decoding: try ScriptConstantRewriter.rewrite(Array(source.utf8), file: "rules/rule.lua", list), as: UTF8.self)
    }

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    @Test func onlyTheLiteralChangesSoLinesAndCommentsStay() throws {
        let rewritten = try Self.rewrite([
            "ENABLED": .bool(true), "LIMIT": .int(10), "LABEL": .string("new \"one\"\n\\"), "RATE": .double(0.25),
        ])
        let lines = Self.lines(rewritten)
        #expect(lines.count == Self.lines(Self.script).count)
        #expect(lines[1] == "local ENABLED = true   -- turn it on")
        #expect(lines[2] == "local LIMIT = 10")
        #expect(lines[3] == #"local LABEL = "new \"one\"\010\\""#)
        #expect(lines[4] == "local RATE = 0.25 -- per second")
        #expect(lines[5] == Self.lines(Self.script)[5])
    }

    @Test(arguments: [
        ("MISSING", JSONValue.bool(true), "rules/rule.lua has no line `local MISSING = ...` to change"),
        ("ENABLED", .string("yes"), "rules/rule.lua:2: ENABLED is a boolean; give a boolean, not \"yes\""),
        ("LIMIT", .bool(true), "rules/rule.lua:3: LIMIT is a number; give a number, not true"),
        ("NAME", .string("z"), "rules/rule.lua:6: NAME is not one literal"),
        ("LIMITS", .int(1), "rules/rule.lua:7: LIMITS is not one literal"),
    ])
    func whatDoesNotFitIsRefused(name: String, value: JSONValue, message: String) {
        #expect {
            _ = try Self.rewrite([name: value])
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func aConstantDeclaredTwiceIsRefused() {
        #expect {
            _ = try Self.rewrite(["LIMIT": .int(1)], in: Self.script + "\nlocal LIMIT = 4\n")
        } throws: { error in
            "\(error)".contains("declares LIMIT more than once (lines 3, 9)")
        }
    }

    /// The script reports its constants through a knob and an alert; the
    /// run sees the scenario's values and the output says they were changed.
    @Test func aRunUsesTheScenariosValues() async throws {
        let rule = """
            local ATTEMPTS = 3
            local NOTE = "default"
            return {
              interval = "5s",
              evaluate = function(state, memory)
                if memory.done then return end
                memory.done = true
                sentinel.set("api.retry.max_attempts", ATTEMPTS, "from a constant")
                sentinel.alert("info", NOTE)
              end,
            }
            """
        let yaml = """
            duration: 1m
            constants:
              rule.lua: { ATTEMPTS: 5, NOTE: "from the scenario" }
            pipelines:
              api:
                policies: [ { retry: { max_attempts: 2 } } ]
                backend: { latency: 10ms }
                traffic: { rate: 10 }
            """
        let run = try await simulate(yaml, scripts: ["rule.lua": rule])
        #expect(run.report.knobs["api.retry.max_attempts"] == 5)
        #expect(run.events("alert").first?["message"] == .string("from the scenario"))
        #expect(run.events.first?["constants"] == ["rule.lua": ["ATTEMPTS": 5, "NOTE": "from the scenario"]])
        var renderer = TimelineRenderer()
        let header = renderer.lines(for: run.events[0], scenario: try Scenario(yaml: yaml, file: "x.yaml"))
        #expect(header.contains { $0.contains("constant rule.lua: ATTEMPTS = 5") })

        let plain = try await simulate(yaml.replacingOccurrences(of: "ATTEMPTS: 5, ", with: ""), scripts: ["rule.lua": rule])
        #expect(plain.report.knobs["api.retry.max_attempts"] == 3, "the file itself is unchanged")
    }

    @Test func aConstantForAScriptThatIsNotThereIsAnErrorOfTheScenario() async throws {
        let yaml = """
            duration: 1m
            constants:
              canary.lua: { REQUIRE_APPROVAL: true }
            pipelines:
              api: { backend: { latency: 10ms }, traffic: { rate: 10 } }
            """
        await #expect {
            _ = try await simulate(yaml, scripts: ["rule.lua": "return { interval = '1s', evaluate = function() end }"])
        } throws: { error in
            "\(error)".hasPrefix(
                "test.yaml:3: constants.canary.lua.REQUIRE_APPROVAL: no script canary.lua in the policies folder (scripts: rule.lua)")
        }
    }
}
