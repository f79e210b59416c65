import Testing

@testable import ScriptHost

/// Errors are typed, located, carry a traceback, and survive odd error objects.
@Suite struct ErrorTests {
    @Test func syntaxErrorReportsTheLine() throws {
        let sandbox = try LuaSandbox()
        let error = #expect(throws: ScriptError.self) {
            _ = try sandbox.load("return {\n  name = 'x',\n  interval = ,\n}", chunkName: "@policies/bad.lua")
        }
        #expect(error?.code == .syntax)
        #expect(error?.chunkName == "policies/bad.lua")
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("policies/bad.lua:3: unexpected symbol") == true)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func halfSavedFileIsASyntaxError() throws {
        let sandbox = try LuaSandbox()
        let error = #expect(throws: ScriptError.self) { _ = try sandbox.load("return {", chunkName: "@guard.lua") }
        #expect(error?.code == .syntax)
        #expect(error?.line == 1)
    }

    @Test func runtimeErrorInNestedFunctionHasATraceback() throws {
        let sandbox = try LuaSandbox()
        let source = """
            local function inner(x)
              local value = x.missing.field
              return value
            end
            local function middle(x) local value = inner(x) return value end
            return function(x) local value = middle(x) return value end
            """
        let rule = try sandbox.load(source, chunkName: "@policies/nested.lua")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule, .value([:])) }
        #expect(error?.code == .runtime)
        #expect(error?.line == 2)
        #expect(error?.message.contains("attempt to index a nil value (field 'missing')") == true)
        let traceback = try #require(error?.traceback)
        #expect(traceback.contains("inner"))
        #expect(traceback.contains("middle"))
        #expect(traceback.contains("policies/nested.lua:5"))
    }

    @Test func errorWithLevelZeroStillHasALine() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function()\n  error('plain', 0)\nend", chunkName: "@plain.lua")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.message == "plain")
        #expect(error?.line == 2)
    }

    @Test(arguments: [
        ("error({ code = 1 })", "(error object is a table value)"),
        ("error(nil)", "(error object is a nil value)"),
        ("error(42)", "42"),
        ("error(setmetatable({}, { __tostring = function() return 'custom' end }))", "custom"),
        ("error(true)", "(error object is a boolean value)"),
        // Lua's tostring accepts a number from __tostring.
        ("error(setmetatable({}, { __tostring = function() return 42 end }))", "42"),
    ])
    func oddErrorObjectsAreReported(body: String, expected: String) throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() \(body) end", chunkName: "=odd")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .runtime)
        #expect(error?.message == expected)
        #expect(sandbox.stackDepth == 0)
    }

    @Test(arguments: [
        "error(setmetatable({}, { __tostring = function() while true do end end }))",
        "error(setmetatable({}, { __tostring = function() error('again') end }))",
        "error(setmetatable({}, { __tostring = function() return {} end }))",
        "error(setmetatable({}, { __tostring = function() local t = {} while true do t[#t+1] = ('x'):rep(1000) end end }))",
    ])
    func misbehavingToStringIsReportedSafely(body: String) throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() \(body) end", chunkName: "=tostring")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("error object is a table value") == true)
        #expect(sandbox.stackDepth == 0)
        let healthy = try sandbox.load("return 1", chunkName: "=after")
        #expect(try sandbox.value(of: healthy) == .integer(1))
    }

    @Test func referenceFromAnotherSandboxIsRefused() throws {
        let first = try LuaSandbox()
        let second = try LuaSandbox()
        let rule = try first.load("return function() return 1 end", chunkName: "=one")
        let error = #expect(throws: ScriptError.self) { try second.call(rule) }
        #expect(error?.code == .dead)
    }

    @Test func callingANonFunctionIsARuntimeError() throws {
        let sandbox = try LuaSandbox()
        let table = try sandbox.load("return { evaluate = 3 }", chunkName: "=notfn")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(table, field: "evaluate") }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("attempt to call") == true)
        #expect(try sandbox.typeName(of: table, field: "evaluate") == "number")
        #expect(try sandbox.typeName(of: table, field: "absent") == "nil")
    }
}
