import Testing

@testable import ScriptHost

/// Values cross between Swift and Lua without loss.
@Suite struct ValueTests {
    static let roundTrips: [LuaValue] = [
        .nil, true, false, 0, -1, .integer(.max), .integer(.min), 1.5, .number(.infinity), .number(-.infinity),
        .number(-0.0), .number(.greatestFiniteMagnitude), "", "héllo ✓", .string(String(repeating: "x", count: 1 << 20)),
        .bytes([0xff, 0xfe, 0x00, 0x41]), ["a": 1, "b": ["c": [1, 2, 3]]], [1, 2, 3], [:],
        .table([.integer(1): "one", .string("two"): 2, .boolean(true): "yes", .number(2.5): "half"]),
    ]

    @Test(arguments: roundTrips)
    func valueSurvivesARoundTrip(value: LuaValue) throws {
        let sandbox = try LuaSandbox()
        let identity = try sandbox.load("return function(x) return x end", chunkName: "=id")
        #expect(try sandbox.call(identity, .value(value)) == value)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func nanSurvivesARoundTrip() throws {
        let sandbox = try LuaSandbox()
        let identity = try sandbox.load("return function(x) return x, x ~= x end", chunkName: "=id")
        let results = try sandbox.callReturningAll(identity, arguments: [.value(.number(.nan))])
        #expect(results[0].doubleValue?.isNaN == true)
        #expect(results[1] == true)
    }

    @Test func integersAndFloatsStayDistinct() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() return 3, 3.0, 2^53, 7 // 2, 7 / 2 end", chunkName: "=n")
        #expect(try sandbox.callReturningAll(rule) == [.integer(3), .number(3), .number(9_007_199_254_740_992), .integer(3), .number(3.5)])
    }

    @Test func functionsInResultsAreATypeErrorNamingThePath() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() return { rules = { { check = function() end } } } end", chunkName: "=f")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .type)
        #expect(error?.message == "result.rules[1].check: cannot convert a function value")
    }

    @Test func cyclicTablesAreRefused() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() local t = {} t.self = t return t end", chunkName: "=cycle")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .type)
        #expect(error?.message.contains("nested more than") == true)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func fieldsOfTheReturnedTableAreReadable() throws {
        let sandbox = try LuaSandbox()
        let script = try sandbox.load(
            "return { name = 'retry', interval = '5s', evaluate = function() end }", chunkName: "=script")
        #expect(try sandbox.field("name", of: script) == "retry")
        #expect(try sandbox.field("interval", of: script) == "5s")
        #expect(try sandbox.typeName(of: script, field: "evaluate") == "function")
        #expect(throws: ScriptError.self) { try sandbox.value(of: script) }
    }

    @Test func memoryTableSurvivesCalls() throws {
        let sandbox = try LuaSandbox()
        let memory = try sandbox.makeReference(.value([:]))
        let rule = try sandbox.load(
            "return function(memory) memory.ticks = (memory.ticks or 0) + 1 return memory.ticks end", chunkName: "=m")
        for tick in 1...3 { #expect(try sandbox.call(rule, .reference(memory)) == .integer(Int64(tick))) }
        #expect(try sandbox.value(of: memory) == ["ticks": 3])
        sandbox.release(memory)
    }
}
