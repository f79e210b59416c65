import Testing

@testable import ScriptHost

/// Without an instruction budget no hook runs: a watchdog thread arms it once
/// the deadline has passed, and the allocator arms it when the memory cap is
/// hit. The same guarantees hold as with a budget.
@Suite struct HooklessLimitTests {
    static let deadlineOnly = ScriptLimits(instructions: nil, deadline: .milliseconds(30), memory: 16 << 20)

    func expectStopped(
        _ body: String, code: ScriptError.Code, limits: ScriptLimits,
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
        #expect(sandbox.stackDepth == 0, sourceLocation: sourceLocation)
        // The hook is gone again: the next call runs normally, and quickly.
        #expect(try sandbox.call(healthy, .value(41)) == .integer(42), sourceLocation: sourceLocation)
        sandbox.collectGarbage()
        #expect(sandbox.memoryInUse < baseline + 64 * 1024, sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        "while true do end",
        "local n = 0 while true do n = n + 1 end",
        "for i = 1, math.maxinteger do end",
        "while true do pcall(function() while true do end end) end",
        "local function f() return pcall(f) end while true do f() end",
        "for i = 1, 10 do pcall(function() while true do end end) end return 'survived'",
        "local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function(a, b) while true do end end)",
        "string.gsub(('x'):rep(100), 'x', function() while true do end end)",
        "local t = setmetatable({}, { __index = function() while true do end end }) return t.x",
        "return pcall(function() while true do end end)",
    ])
    func runawayHitsDeadlineWithoutAHook(body: String) throws {
        try expectStopped(body, code: .deadline, limits: Self.deadlineOnly)
    }

    @Test(arguments: [
        "return ('a'):rep(3000):find('a-a-a-a-a-a-b')",
        "local t = {} for i = 1, 500000 do t[i] = (i * 7919) % 500000 end table.sort(t)",
        "return ('a'):rep(1e6):find(('a'):rep(5000) .. 'b', 1, true)",
    ])
    func longLibraryCallIsStoppedWithoutAHook(body: String) throws {
        try expectStopped(body, code: .deadline, limits: Self.deadlineOnly)
    }

    @Test(arguments: [
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local s = 'x' while true do s = s .. s end",
        "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = {} end end) end",
    ])
    func memoryBombHitsTheCapWithoutAHook(body: String) throws {
        let limits = ScriptLimits(instructions: nil, deadline: .seconds(20), memory: 4 << 20)
        try expectStopped(body, code: .memory, limits: limits)
    }

    @Test func noLimitsAtAllStillCapsNothingAndRuns() throws {
        let sandbox = try LuaSandbox(limits: .unlimited)
        let rule = try sandbox.load(
            "return function() local n = 0 for i = 1, 1e6 do n = n + 1 end return n end", chunkName: "=count")
        #expect(try sandbox.call(rule) == .integer(1_000_000))
    }

    @Test func switchingBetweenModesKeepsTheBudgetExact() throws {
        // The loop runs in a few milliseconds; the deadline is far away so a
        // busy machine (other suites in parallel) never stops it: what is
        // tested is the budget, not the clock.
        let hookless = ScriptLimits(instructions: nil, deadline: .seconds(20), memory: 16 << 20)
        let sandbox = try LuaSandbox(limits: hookless)
        let rule = try sandbox.load(
            "return function() local n = 0 for i = 1, 1e6 do n = n + 1 end return n end", chunkName: "=count")
        #expect(try sandbox.call(rule) == .integer(1_000_000))
        sandbox.limits = ScriptLimits(instructions: 10_000, deadline: .seconds(20), memory: nil)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .instructionBudget)
        sandbox.limits = hookless
        #expect(try sandbox.call(rule) == .integer(1_000_000))
        sandbox.limits = ScriptLimits(instructions: 10_000, deadline: nil, memory: nil)
        let again = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(again?.code == .instructionBudget)
    }

    @Test func manyShortCallsAreNeverStoppedEarly() throws {
        // Each call's deadline starts with that call: thousands of calls in a
        // row, five times longer than the deadline in total, all succeed. (The
        // deadline is well above a call's few microseconds: on two busy cores a
        // call has been descheduled for more than 50 ms.)
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: nil, deadline: .milliseconds(200), memory: nil))
        let rule = try sandbox.load(
            "return function() local n = 0 for i = 1, 1000 do n = n + i end return n end", chunkName: "=short")
        let clock = ContinuousClock()
        let start = clock.now
        var calls = 0
        while clock.now - start < .seconds(1) || calls < 1000 {
            #expect(try sandbox.call(rule) == .integer(500_500))
            calls += 1
        }
    }

    @Test func manySandboxesOnManyThreadsStopIndependently() async throws {
        try await withThrowingTaskGroup(of: ScriptError.Code?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let sandbox = try LuaSandbox(limits: Self.deadlineOnly)
                    let body = index % 2 == 0 ? "while true do end" : "local n = 0 for i = 1, 1000 do n = n + i end return n"
                    let rule = try sandbox.load("return function() \(body) end", chunkName: "=t")
                    do throws(ScriptError) {
                        _ = try sandbox.call(rule)
                        return nil
                    } catch {
                        return error.code
                    }
                }
            }
            var stopped = 0
            var finished = 0
            for try await code in group {
                if code == .deadline { stopped += 1 } else if code == nil { finished += 1 }
            }
            #expect(stopped == 4)
            #expect(finished == 4)
        }
    }
}

/// The footprint of a fresh sandbox (a figure of docs/performance.md).
@Suite struct FootprintTests {
    static let fiveKilobyteScript: String = {
        var source = "local rules = {}\n"
        var index = 0
        while source.utf8.count < 5 * 1024 {
            source +=
                "rules[\(index)] = function(state) local w = state.windows['1m'] "
                + "if w.error_rate > 0.\(index % 9 + 1) then return \(index) end return nil end\n"
            index += 1
        }
        return source + "return { name = 'five', interval = '5s', evaluate = function(state) return rules[1](state) end }\n"
    }()

    @Test func freshSandboxWithAFiveKilobyteScriptStaysUnder512KiB() throws {
        let sandbox = try LuaSandbox()
        _ = try sandbox.load(Self.fiveKilobyteScript, chunkName: "=five")
        sandbox.collectGarbage()
        // Measured: about 33 KiB (the allocator counts every byte of the state).
        #expect(sandbox.memoryInUse <= 512 * 1024, "memory in use: \(sandbox.memoryInUse)")
        #expect(sandbox.peakMemory <= 512 * 1024, "peak: \(sandbox.peakMemory)")
    }
}
