import CScriptHost
import Testing

@testable import ScriptHost

/// The bounded libraries' own guarantees, beyond what LimitTests covers:
/// loops that follow a lying `__len`, costs refused up front, sorted
/// iteration over large tables, and the start-up check of the Lua layout.
@Suite struct BoundedLibraryTests {
    static let budgetOnly = ScriptLimits(instructions: 1_000_000, deadline: nil, memory: 16 << 20)
    static let deadlineOnly = ScriptLimits(instructions: nil, deadline: .milliseconds(30), memory: 16 << 20)

    func expectStopped(
        _ body: String, limits: ScriptLimits, codes: [ScriptError.Code],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let sandbox = try LuaSandbox(limits: limits)
        let rule = try sandbox.load("return function() \(body) end", chunkName: "=bounded")
        let error = #expect(throws: ScriptError.self, sourceLocation: sourceLocation) { try sandbox.call(rule) }
        #expect(error.map { codes.contains($0.code) } == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(sandbox.stackDepth == 0, sourceLocation: sourceLocation)
        let healthy = try sandbox.load("return function() return ('x'):rep(3) end", chunkName: "=healthy")
        #expect(try sandbox.call(healthy) == "xxx", sourceLocation: sourceLocation)
    }

    static let lyingLength = "local t = setmetatable({}, { __len = function() return 1 << 62 end }) "

    @Test(arguments: [
        lyingLength + "table.insert(t, 1, 'x')",
        lyingLength + "table.remove(t, 1)",
        lyingLength
            + "return table.concat(setmetatable({}, { __len = function() return 1 << 62 end, __index = function() return 'x' end }))",
        "return table.move(setmetatable({}, { __index = function() return 1 end }), 1, 1 << 62, 2, setmetatable({}, { __newindex = function() end }))",
        "return ('a'):rep(3000):find('a-a-a-a-a-a-b')",
        "return string.find(('a'):rep(2e5), ('a?'):rep(150) .. ('a'):rep(150) .. 'b')",
    ])
    func longLoopsStopUnderBothModes(body: String) throws {
        try expectStopped(body, limits: Self.budgetOnly, codes: [.instructionBudget])
        try expectStopped(body, limits: Self.deadlineOnly, codes: [.deadline])
    }

    /// Limits that leave room for the inputs built beforehand.
    static let roomyBudgetOnly = ScriptLimits(instructions: 1_000_000, deadline: nil, memory: 256 << 20)
    static let roomyDeadlineOnly = ScriptLimits(instructions: nil, deadline: .milliseconds(5), memory: 256 << 20)

    struct Prebuilt: Sendable, CustomStringConvertible {
        let setup: String
        let body: String
        var description: String { body }
    }

    /// The input is built at load time under generous limits, so the one
    /// library call is all the tight limit can stop: the stock function would
    /// finish it inside one C call, uncounted, under the budget.
    @Test(arguments: [
        Prebuilt(setup: "local t = {} for i = 1, 2e6 do t[i] = 'x' end", body: "return #table.concat(t)"),
        Prebuilt(setup: "local t = {} for i = 1, 2e6 do t[i] = i end", body: "return #table.move(t, 1, #t, 1, {})"),
        Prebuilt(setup: "local t = {} for i = 1, 2e5 do t[i] = (i * 7919) % 200003 end", body: "table.sort(t)"),
        Prebuilt(setup: "local s = ('ab'):rep(5e5)", body: "return s:gsub('%w', '%0')"),
    ])
    func libraryCallOverPrebuiltInputStopsUnderBothModes(_ call: Prebuilt) throws {
        for (limits, code) in [(Self.roomyBudgetOnly, ScriptError.Code.instructionBudget), (Self.roomyDeadlineOnly, .deadline)] {
            let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: 500_000_000, deadline: nil, memory: 256 << 20))
            let rule = try sandbox.load("\(call.setup) return function() \(call.body) end", chunkName: "=prebuilt")
            sandbox.limits = limits
            let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
            #expect(error?.code == code, "\(String(describing: error))")
            #expect(sandbox.stackDepth == 0)
            let healthy = try sandbox.load("return function() return ('x'):rep(3) end", chunkName: "=healthy")
            #expect(try sandbox.call(healthy) == "xxx")
        }
    }

    @Test(arguments: [
        "return ('x'):rep(20 << 20)",
        "return ('x'):rep(1 << 20, ('y'):rep(100))",
        "local s = ('x'):rep(6 << 20) return s:upper()",
        "local s = ('x'):rep(6 << 20) return s:reverse() .. s:lower()",
        "local s = ('x'):rep(6 << 20) return string.format('%s%s', s, s)",
    ])
    func resultsThatCannotFitAreRefusedBeforeTheWork(body: String) throws {
        try expectStopped(body, limits: ScriptLimits(instructions: nil, deadline: .seconds(5), memory: 8 << 20), codes: [.memory])
    }

    @Test func knownCostIsChargedToTheBudget() throws {
        // A 16 MiB rep is charged 4 bytes a unit, twice (filled, then copied
        // into the string): 4,096 polls of 1,000 instructions, over a 100,000 budget.
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: 100_000, deadline: nil, memory: 64 << 20))
        let rule = try sandbox.load("return function() return #('x'):rep(16 << 20) end", chunkName: "=charge")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.code == .instructionBudget)
    }

    @Test func sortedPairsOverALargeTableIsOrderedAndComplete() throws {
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: 100_000_000, deadline: nil, memory: 64 << 20))
        let rule = try sandbox.load(
            """
            return function()
              local t = {}
              for i = 1, 20000 do t['k' .. (i * 7919 % 20011)] = i; t[i * 0.5] = i end
              local previous, count = nil, 0
              for k in pairs(t) do
                if type(previous) == type(k) then assert(previous < k, 'out of order') end
                previous, count = k, count + 1
              end
              local viaNext, key = 0, next(t)
              while key ~= nil do viaNext = viaNext + 1; key = next(t, key) end
              return count, viaNext
            end
            """, chunkName: "=large")
        #expect(try sandbox.callReturningAll(rule) == [40000, 40000])
    }

    @Test func pairsSkipsFieldsClearedDuringTheTraversal() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            """
            return function()
              local t = { a = 1, b = 2, c = 3, d = 4, [1] = 'x', [2] = 'y' }
              local seen = {}
              for k in pairs(t) do
                seen[#seen + 1] = tostring(k)
                if k == 'a' then t.b = nil; t.c = nil end
              end
              return table.concat(seen, ',')
            end
            """, chunkName: "=clear")
        #expect(try sandbox.call(rule) == "1,2,a,d")
    }

    @Test func pairsHonoursThePairsMetamethod() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            """
            return function()
              local t = setmetatable({}, { __pairs = function(t)
                return function(_, k) if k == nil then return 1, 'one' end end, t, nil
              end })
              local out = {}
              for k, v in pairs(t) do out[#out + 1] = k .. '=' .. v end
              return table.concat(out, ',')
            end
            """, chunkName: "=meta")
        #expect(try sandbox.call(rule) == "1=one")
    }

    @Test func nextWithAnUnknownKeyIsAnError() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function() return next({ a = 1 }, 'nokey') end", chunkName: "=next")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule) }
        #expect(error?.message.contains("invalid key to 'next'") == true)
    }

    @Test func sortWithAnInconsistentOrderReturnsAPermutation() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            """
            return function()
              local t = {}
              for i = 1, 1000 do t[i] = (i * 7919) % 1009 end
              table.sort(t, function(a, b) return true end)
              local sum = 0
              for i = 1, #t do sum = sum + t[i] end
              return #t, sum
            end
            """, chunkName: "=inconsistent")
        var expectedSum: Int64 = 0
        for i in 1...1000 { expectedSum += Int64((i * 7919) % 1009) }
        #expect(try sandbox.callReturningAll(rule) == [1000, .integer(expectedSum)])
    }

    @Test func packFunctionsAreNotOffered() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            "return function() return string.pack, string.unpack, string.packsize, string.dump, ('').pack end",
            chunkName: "=pack")
        #expect(try sandbox.callReturningAll(rule) == [.nil, .nil, .nil, .nil, .nil])
    }

    @Test func installedLuaMatchesTheAssumedCallFrameLayout() {
        #expect(sh_layout_problem() == nil)
        #expect(sh_probe_layout(64) == Int32(SH_LAYOUT_OK.rawValue))
    }

    @Test(arguments: [48, 72, 96])
    func callFramesOfAnotherSizeAreRefused(size: Int) {
        #expect(sh_probe_layout(size) == Int32(SH_LAYOUT_OTHER_FRAME_SIZE.rawValue))
    }
}
