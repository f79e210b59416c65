import Testing

@testable import ScriptHost

/// What the bounded libraries charge to the instruction budget: every byte
/// they compare, scan or write, on a work meter that carries from one library
/// call to the next. `simulate` relies on the budget (not the wall clock) to
/// stop a script, so long library work must cost what a Lua loop doing as
/// much would: these cases ran for seconds under a budget of 1,000,000 before.
@Suite struct LibraryCostTests {
    /// For building the inputs of a case (the chunk runs at load time).
    static let setup = ScriptLimits(instructions: 500_000_000, deadline: nil, memory: 256 << 20)
    /// The default budget alone, and room for the inputs: deterministic.
    static let budgetOnly = ScriptLimits(instructions: 1_000_000, deadline: nil, memory: 256 << 20)

    /// Loads `chunk` (which builds its inputs and returns what the case
    /// calls) under generous limits, then applies `limits`.
    func prepare(_ chunk: String, limits: ScriptLimits = budgetOnly) throws -> (LuaSandbox, LuaReference) {
        let sandbox = try LuaSandbox(limits: Self.setup)
        let prepared = try sandbox.load(chunk, chunkName: "=cost")
        sandbox.limits = limits
        return (sandbox, prepared)
    }

    func expectBudgetStops(_ chunk: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (sandbox, run) = try prepare(chunk)
        let error = #expect(throws: ScriptError.self, sourceLocation: sourceLocation) { try sandbox.call(run) }
        #expect(error?.code == .instructionBudget, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(sandbox.stackDepth == 0, sourceLocation: sourceLocation)
    }

    // MARK: - Runs compared

    @Test(arguments: [
        // A literal of 30,000 bytes compared at each of 170,000 places.
        "local s = ('a'):rep(2e5) local p = ('a'):rep(3e4) .. 'b.' return function() return s:find(p) end",
        // A back reference of 1,000 bytes compared at each of 200,000 places, failing late.
        "local s = ('a'):rep(1000) .. 'b' .. (('a'):rep(999) .. 'y'):rep(200) "
            + "return function() return s:find('^(a+)b.-%1x') end",
        // A bracket set of 256 KiB, scanned and built at every call.
        "local set = '[' .. ('a'):rep(1 << 18) .. ']' return function() for i = 1, 100 do ('x'):find(set) end end",
    ])
    func everyByteComparedIsCharged(chunk: String) throws {
        try expectBudgetStops(chunk)
    }

    // MARK: - Short calls in a loop

    struct LoopCase: Sendable, CustomStringConvertible {
        let body: String
        let mostCalls: Int
        var description: String { body }
    }

    @Test(arguments: [
        // 1 MiB scanned at 16 bytes a unit: 32 polls a call (32 calls).
        LoopCase(body: "s:gsub('y', 'z')", mostCalls: 40),
        LoopCase(body: "s:find('a.')", mostCalls: 40),
        LoopCase(body: "s:find('y', 1, true)", mostCalls: 40),
        LoopCase(body: "s:match('y')", mostCalls: 40),
        // 1 MiB written at 4 bytes a unit: 128 polls a call (8 calls).
        LoopCase(body: "s:sub(2, -2)", mostCalls: 10),
        // Each call is less than one poll's worth of work (about 770 units):
        // the meter carries it to the next (about 2,600 calls).
        LoopCase(body: "short:find('%d')", mostCalls: 3_000),
    ])
    func loopOfShortCallsIsStoppedByTheBudget(_ loop: LoopCase) throws {
        let (sandbox, functions) = try prepare(
            """
            local s = ('x'):rep(1 << 20)
            local short = ('x'):rep(1000)
            local calls = 0
            return {
              run = function() while true do calls = calls + 1; \(loop.body) end end,
              calls = function() return calls end,
            }
            """)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(functions, field: "run") }
        #expect(error?.code == .instructionBudget, "\(String(describing: error))")
        sandbox.limits = Self.setup
        let calls = try sandbox.call(functions, field: "calls")
        guard case .integer(let count) = calls else {
            Issue.record("calls: \(calls)")
            return
        }
        #expect(count >= 2 && count <= loop.mostCalls, "\(count) calls")
    }

    @Test func chargeGrowsWithTheBytesProcessed() throws {
        let (sandbox, find) = try prepare("return function(s) return s:find('a.') end")
        var charges: [Int] = []
        for size in [1 << 20, 4 << 20] {
            _ = try sandbox.call(find, .value(.string(String(repeating: "x", count: size))))
            charges.append(sandbox.lastCallInstructions)
        }
        // 1 MiB scanned at 16 bytes a unit, 2,048 units a poll of 1,000 instructions.
        #expect(charges[0] >= 30_000)
        #expect(charges[1] >= 4 * charges[0] - 2_000)
        #expect(charges[1] <= 4 * charges[0] + 2_000)
    }

    // MARK: - Results written

    @Test(arguments: [
        "return function() return #('a'):rep(30e6) end",
        "local s = ('a'):rep(8e6) return function() return #s:upper() end",
        "local s = ('a'):rep(8e6) return function() return #s:lower() end",
        "local s = ('a'):rep(8e6) return function() return #s:reverse() end",
        "local s = ('a'):rep(12e6) return function() return #s:sub(2) end",
        // %q escapes a control byte with a number: about 128 ns each.
        "local s = ('\\0'):rep(2e6) return function() return #string.format('%q', s) end",
        // %f writes every digit of 1e308: about 20 us each.
        "local f, n = ('%f'):rep(30000), {} for i = 1, 30000 do n[i] = 1e308 end "
            + "return function() return #string.format(f, table.unpack(n)) end",
    ])
    func writtenBytesAreCharged(chunk: String) throws {
        try expectBudgetStops(chunk)
    }

    @Test func repeatFillsAcrossChunksExactly() throws {
        let sandbox = try LuaSandbox(limits: Self.setup)
        let rule = try sandbox.load(
            """
            return function()
              local function expected(unit, n, separator)
                local t = {}
                for i = 1, n do t[i] = unit end
                return table.concat(t, separator)
              end
              local cases = {
                { 'abc', 50000, '--' }, { 'x', 200000, '' }, { ('y'):rep(100000), 3, ',' },
                { 'ab', 5, ('z'):rep(70001) }, { '', 100000, ';' }, { 'q', 1, ('s'):rep(10) },
                { ('0123456789'):rep(6553) .. '!', 7, '' },
              }
              for i, c in ipairs(cases) do
                local got = c[1]:rep(c[2], c[3])
                assert(got == expected(c[1], c[2], c[3]), 'case ' .. i)
              end
              return #cases
            end
            """, chunkName: "=rep")
        #expect(try sandbox.call(rule) == .integer(7))
    }
}
