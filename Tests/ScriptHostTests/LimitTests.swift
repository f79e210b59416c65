import Testing

@testable import ScriptHost

/// Runaways, long library calls and memory bombs stop with a typed error, and
/// the state is usable afterwards with its memory back to normal.
@Suite struct LimitTests {
    /// Loads `body` as a function, calls it, and expects `code`; then checks
    /// the sandbox still works and gave its memory back.
    func expectStopped(
        _ body: String, code: ScriptError.Code, limits: ScriptLimits = .default,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let sandbox = try LuaSandbox(limits: limits)
        let healthy = try sandbox.load("return function(x) return x + 1 end", chunkName: "=healthy")
        _ = try sandbox.call(healthy, .value(1))
        sandbox.collectGarbage()
        let baseline = sandbox.memoryInUse
        let rule = try sandbox.load("return function() \(body) end", chunkName: "@runaway.lua")
        let error = #expect(throws: ScriptError.self, sourceLocation: sourceLocation) { try sandbox.call(rule) }
        #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.stateMayBeInconsistent == true, sourceLocation: sourceLocation)
        #expect(sandbox.stackDepth == 0, sourceLocation: sourceLocation)
        #expect(try sandbox.call(healthy, .value(41)) == .integer(42), sourceLocation: sourceLocation)
        sandbox.collectGarbage()
        #expect(
            sandbox.memoryInUse < baseline + 64 * 1024, "memory after: \(sandbox.memoryInUse), before: \(baseline)",
            sourceLocation: sourceLocation)
    }

    /// No deadline: the budget alone decides, so these are deterministic.
    static let budgetOnly = ScriptLimits(instructions: 1_000_000, deadline: nil, memory: 16 << 20)
    /// No budget: the (generous) deadline alone decides.
    static let deadlineOnly = ScriptLimits(instructions: nil, deadline: .milliseconds(30), memory: 16 << 20)

    @Test(arguments: [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local function f() return pcall(f) end while true do f() end",
        "for i = 1, 10 do pcall(function() while true do end end) end return 'survived'",
        "local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function(a, b) while true do end end)",
        "string.gsub(('x'):rep(100), 'x', function() while true do end end)",
        "local t = setmetatable({}, { __index = function() while true do end end }) return t.x",
        "local t = setmetatable({}, { __index = function(t, k) local n = 0 while true do n = n + 1 end end }) pcall(function() return t.x end) while true do end",
        "local ok = pcall(error, setmetatable({}, { __tostring = function() while true do end end })) while true do end",
    ])
    func runawayHitsInstructionBudget(body: String) throws {
        try expectStopped(body, code: .instructionBudget, limits: Self.budgetOnly)
    }

    @Test func pcallReturningNormallyAfterTheHookFiredStillFails() throws {
        // The hook fires inside the pcall; pcall returns false and the function
        // returns at once. The host trusts its own record of the limit.
        try expectStopped(
            "return pcall(function() while true do end end)", code: .instructionBudget,
            limits: Self.budgetOnly)
    }

    @Test(arguments: [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
    ])
    func runawayHitsDeadline(body: String) throws {
        try expectStopped(body, code: .deadline, limits: Self.deadlineOnly)
    }

    struct LongCall: Sendable, CustomStringConvertible {
        /// Builds the input at load time, under generous limits.
        var setup = ""
        let body: String
        var description: String { setup + body }
    }

    @Test(arguments: [
        LongCall(body: "return ('a'):rep(3000):find('a-a-a-a-a-a-b')"),
        LongCall(body: "return ('a'):rep(3000):match('a-a-a-a-a-a-b')"),
        LongCall(body: "return string.gsub(('a'):rep(3000), 'a-a-a-a-a-a-b', '')"),
        LongCall(body: "for m in ('a'):rep(3000):gmatch('a-a-a-a-a-a-b') do end"),
        LongCall(setup: "local t = {} for i = 1, 500000 do t[i] = (i * 7919) % 500000 end ", body: "table.sort(t)"),
        LongCall(body: "local t = {} for i = 1, 200000 do table.insert(t, 1, i) end"),
        LongCall(body: "return table.move({}, 1, 1e12, 2)"),
        LongCall(body: "return ('a'):rep(1e6):find(('a'):rep(5000) .. 'b', 1, true)"),
    ])
    func longLibraryCallIsStopped(_ call: LongCall) throws {
        // Budget and deadline both armed (the defaults); either may win.
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: 100_000_000, deadline: nil, memory: 16 << 20))
        let rule = try sandbox.load("\(call.setup)return function() \(call.body) end", chunkName: "=long")
        sandbox.limits = .default
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect([.instructionBudget, .deadline, .memory].contains(error?.code), "\(String(describing: error))")
        #expect(sandbox.stackDepth == 0)
    }

    @Test(arguments: [
        "return string.rep('x', 2^30)",
        "return ('x'):rep(1 << 30)",
        "return ('x'):rep(3 << 20) .. ('y'):rep(3 << 20)",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local s = 'x' while true do s = s .. s end",
        "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = {} end end) end",
        "local t = {} for i = 1, 1e9 do t[#t + 1] = tostring(i) .. ('y'):rep(100) end",
    ])
    func memoryBombHitsTheCap(body: String) throws {
        let limits = ScriptLimits(instructions: 200_000_000, deadline: .seconds(20), memory: 4 << 20)
        try expectStopped(body, code: .memory, limits: limits)
    }

    @Test(arguments: ["return string.rep('', 3e9)", "return (''):rep(3e9, '')", "return ('x'):rep(0)"])
    func emptyRepeatReturnsAtOnce(body: String) throws {
        // Stock Lua loops 3e9 times here; the bounded rep does no work at all.
        let sandbox = try LuaSandbox(limits: Self.budgetOnly)
        let rule = try sandbox.load("return function() \(body) end", chunkName: "=empty")
        #expect(try sandbox.call(rule) == "")
    }

    @Test func fourGibibyteRepeatIsRefusedUpFront() throws {
        // Lua 5.4 caps a string.rep result at 2 GiB and says so before allocating.
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() return string.rep('x', 2^32) end", chunkName: "=huge")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.message == "resulting string too large")
        #expect(sandbox.memoryInUse < 1 << 20)
    }

    @Test func deepRecursionIsAnOrdinaryError() throws {
        let sandbox = try LuaSandbox(limits: .init(instructions: 100_000_000, deadline: nil, memory: 256 << 20))
        let rule = try sandbox.load(
            "return function() local function f(n) return f(n + 1) + 1 end return f(1) end", chunkName: "=deep")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("stack overflow") == true)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func recursionThroughMetamethodsIsAnOrdinaryError() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            "return function() local t = setmetatable({}, {}) getmetatable(t).__index = function(s, k) return s[k] end return t.x end",
            chunkName: "=meta")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.message.contains("stack overflow") == true || error?.message.contains("C stack") == true)
        #expect(sandbox.stackDepth == 0)
    }

    @Test func limitsApplyPerCall() throws {
        var limits = ScriptLimits.default
        limits.instructions = 50_000
        limits.deadline = nil
        let sandbox = try LuaSandbox(limits: limits)
        let rule = try sandbox.load(
            "return function() local n = 0 for i = 1, 5000 do n = n + i end return n end", chunkName: "=sum")
        for _ in 0..<100 { #expect(try sandbox.call(rule) == .integer(12_502_500)) }
    }

    @Test func changingLimitsTakesEffect() throws {
        let sandbox = try LuaSandbox(limits: .init(instructions: nil, deadline: nil, memory: nil))
        let rule = try sandbox.load(
            "return function() local n = 0 for i = 1, 1e6 do n = n + 1 end return n end", chunkName: "=count")
        #expect(try sandbox.call(rule) == .integer(1_000_000))
        sandbox.limits = ScriptLimits(instructions: 10_000, deadline: nil, memory: nil)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .instructionBudget)
        #expect(error?.message.contains("discard the sandbox and load the script again") == true)
    }

    @Test func closingAStateWithPendingValuesIsSafe() throws {
        var sandbox: LuaSandbox? = try LuaSandbox()
        _ = try sandbox?.load(
            "big = {} for i = 1, 10000 do big[i] = { i } end local mt = {} setmetatable(big, mt)",
            chunkName: "=pending")
        sandbox = nil
    }
}
