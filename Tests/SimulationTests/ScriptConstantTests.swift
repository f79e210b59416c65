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

    /// Lua's block comments and long strings (any level) are text: a
    /// declaration inside one is neither changed nor a second declaration.
    @Test func declarationsInsideBlockCommentsAndLongStringsAreText() throws {
        let source = """
            --[[ the old default:
            local LIMIT = 1
            ]]
            local LIMIT = 3
            local HELP = [==[
            local LIMIT = 2 ]] still the string
            ]==]
            --[=[ local ENABLED = true ]=] local ENABLED = false
            local QUOTED = "a \\
            local LIMIT = 9"
            return LIMIT
            """
        let lines = Self.lines(try Self.rewrite(["LIMIT": .int(7)], in: source))
        #expect(lines.count == Self.lines(source).count)
        #expect(lines[3] == "local LIMIT = 7")
        #expect(
            lines.enumerated().filter { $0.offset != 3 }.map(\.element)
                == Self.lines(source).enumerated().filter { $0.offset != 3 }.map(\.element))
        #expect {
            _ = try Self.rewrite(["ENABLED": .bool(true)], in: source)
        } throws: { error in
            "\(error)".contains("has no line `local ENABLED = ...` to change")
        }
        let commentedOut = "--[[\nlocal LIMIT = 1\n--]]\nlocal LIMIT = 3\n"
        #expect(try Self.rewrite(["LIMIT": .int(4)], in: commentedOut) == "--[[\nlocal LIMIT = 1\n--]]\nlocal LIMIT = 4\n")
        #expect {
            _ = try Self.rewrite(["LIMIT": .int(1)], in: "local S = [[\nlocal LIMIT = 1\n]]\n")
        } throws: { error in
            "\(error)".contains("has no line `local LIMIT = ...` to change")
        }
    }

    /// After the literal: blanks, a line comment, or a block comment that
    /// closes on the line with nothing after it; anything else could make
    /// the literal part of an expression and is refused.
    @Test func aCommentAfterTheLiteralMustEndTheLine() throws {
        #expect(try Self.rewrite(["X": .int(2)], in: "local X = 1 --[[ why ]]  \n") == "local X = 2 --[[ why ]]  \n")
        #expect(try Self.rewrite(["X": .int(2)], in: "local X = 1 --[==[ ]] ]==]\n") == "local X = 2 --[==[ ]] ]==]\n")
        #expect(try Self.rewrite(["X": .int(2)], in: "local X = 1 --- [[ a line comment\n") == "local X = 2 --- [[ a line comment\n")
        #expect {
            _ = try Self.rewrite(["X": .string("z")], in: #"local X = "a" --[[c]] .. "b""# + "\n")
        } throws: { error in
            "\(error)".contains("rules/rule.lua:1: X: the block comment after its literal is followed by more on that line")
        }
        #expect {
            _ = try Self.rewrite(["X": .int(2)], in: "local X = 1 --[[ opens\n]] + 1\n")
        } throws: { error in
            "\(error)".contains("rules/rule.lua:1: X: the block comment after its literal does not close on that line")
        }
    }

    /// A CRLF file keeps its line ends, and errors count its lines right.
    @Test func aCRLFFileKeepsItsLineEndsAndNumbers() throws {
        let source = "--[[\r\nlocal A = 1\r\n]]\r\nlocal A = 2 -- two\r\nlocal B = 'x'\r\nlocal C = 1 --[[ c ]] + 1\r\n"
        #expect(
            try Self.rewrite(["A": .int(5), "B": .string("y")], in: source)
                == "--[[\r\nlocal A = 1\r\n]]\r\nlocal A = 5 -- two\r\nlocal B = \"y\"\r\nlocal C = 1 --[[ c ]] + 1\r\n")
        #expect {
            _ = try Self.rewrite(["B": .int(1)], in: source)
        } throws: { error in
            "\(error)".contains("rules/rule.lua:5: B is a string")
        }
        #expect {
            _ = try Self.rewrite(["C": .int(1)], in: source)
        } throws: { error in
            "\(error)".contains("rules/rule.lua:6: C: the block comment after its literal is followed by more on that line")
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
