import Testing

@testable import ScriptHost

struct Refusal: Error, CustomStringConvertible {
    var description: String { "refused by the host" }
}

/// Swift functions called from Lua: typed arguments, clear errors, no unwinding through Swift.
@Suite struct FunctionTests {
    func sandboxWithFunctions() throws -> LuaSandbox {
        let sandbox = try LuaSandbox()
        try sandbox.register("scale", in: "host") { arguments in
            try arguments.expectCount(2...2)
            return [.number(try arguments.number(1) * Double(try arguments.integer(2)))]
        }
        try sandbox.register("greet", in: "host") { arguments in
            [.string("hello " + (try arguments.string(1)))]
        }
        try sandbox.register("fail", in: "host") { _ in throw Refusal() }
        try sandbox.register("pair") { _ in [1, "two"] }
        return sandbox
    }

    @Test func scriptCallsSwift() throws {
        let sandbox = try sandboxWithFunctions()
        let rule = try sandbox.load(
            "return function() local a, b = pair() return host.scale(2.5, 4), host.greet('ops'), a, b end",
            chunkName: "=call")
        #expect(try sandbox.callReturningAll(rule) == [10.0, "hello ops", 1, "two"])
    }

    @Test(arguments: [
        ("host.scale('x', 2)", "bad argument #1 to 'host.scale' (number expected, got string)"),
        ("host.scale(1, 2.5)", "bad argument #2 to 'host.scale' (number has no integer representation)"),
        ("host.scale(1)", "wrong number of arguments to 'host.scale' (expected 2, got 1)"),
        ("host.scale(1, 2, 3)", "wrong number of arguments to 'host.scale' (expected 2, got 3)"),
        ("host.greet({})", "bad argument #1 to 'host.greet' (string expected, got table)"),
        ("host.greet()", "bad argument #1 to 'host.greet' (string expected, got no value)"),
        ("host.greet('\\255')", "bad argument #1 to 'host.greet' (string is not valid UTF-8)"),
        ("host.fail()", "refused by the host"),
    ])
    func wrongCallRaisesALuaErrorAtTheCall(call: String, message: String) throws {
        let sandbox = try sandboxWithFunctions()
        let rule = try sandbox.load("return function()\n  return \(call)\nend", chunkName: "@rule.lua")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .runtime)
        #expect(error?.message == message)
        #expect(error?.line == 2)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func scriptCanCatchASwiftError() throws {
        let sandbox = try sandboxWithFunctions()
        let rule = try sandbox.load(
            "return function() return pcall(function() return host.fail() end) end", chunkName: "@catch.lua")
        #expect(try sandbox.callReturningAll(rule) == [false, "catch.lua:1: refused by the host"])
    }

    @Test func hugeAndOddNumbersArrive() throws {
        let sandbox = try LuaSandbox()
        nonisolated(unsafe) var seen: [LuaValue] = []
        try sandbox.register("see") { arguments in
            for index in 1...arguments.count { seen.append(try arguments.value(index)) }
            return []
        }
        let rule = try sandbox.load(
            "return function() see(math.maxinteger, math.mininteger, 1/0, -1/0, 2^63, ('z'):rep(100000)) end",
            chunkName: "=odd")
        _ = try sandbox.call(rule)
        #expect(seen.count == 6)
        #expect(seen[0] == .integer(.max))
        #expect(seen[1] == .integer(.min))
        #expect(seen[2] == .number(.infinity))
        #expect(seen[4] == .number(9_223_372_036_854_775_808))
        #expect(seen[5].stringValue?.count == 100_000)
    }
}
