import Testing

@testable import ScriptHost

/// A limit, or an error of the script's own, that stops `table.sort`,
/// `table.insert`, `table.remove` or `table.move` leaves the list whole: a
/// permutation of its elements, never one element twice and another lost.
/// A rule's `memory` outlives a killed call, so a half-moved list would
/// corrupt the rule's own saved state.
@Suite struct ListIntegrityTests {
    /// For building the list (the chunk runs at load time) and checking it.
    static let setup = ScriptLimits(instructions: 500_000_000, deadline: nil, memory: 256 << 20)

    /// 20,000 distinct numbers in a scrambled order, sort functions, and checks.
    static let sortChunk = """
        local count = 20000
        local data = {}
        for i = 1, count do data[i] = (i * 7919) % 20011 end
        local compared = 0
        local function order(a, b) return a < b end
        local boxed = setmetatable({}, { __lt = function(a, b)
          compared = compared + 1
          if compared == boxed_after then error('less-than broke') end
          return a.v < b.v
        end })
        return {
          sort = function() table.sort(data) end,
          sortBy = function() table.sort(data, order) end,
          sortRaising = function(after)
            compared = 0
            table.sort(data, function(a, b)
              compared = compared + 1
              if compared == after then error('order broke') end
              return a < b
            end)
          end,
          sortRaisingLessThan = function(after)
            compared = 0
            boxed_after = after
            for i = 1, count do data[i] = setmetatable({ v = data[i] }, getmetatable(boxed)) end
            local ok, message = pcall(table.sort, data)
            for i = 1, count do data[i] = data[i].v end
            if not ok then error(message, 0) end
          end,
          permutation = function()
            if #data ~= count then return false end
            local seen = {}
            for i = 1, count do
              local v = data[i]
              if v == nil or seen[v] then return false end
              seen[v] = true
            end
            for i = 1, count do if not seen[(i * 7919) % 20011] then return false end end
            return true
          end,
          sorted = function()
            for i = 2, count do if data[i - 1] > data[i] then return false end end
            return true
          end,
        }
        """

    func prepareSort() throws -> (LuaSandbox, LuaReference) {
        let sandbox = try LuaSandbox(limits: Self.setup)
        return (sandbox, try sandbox.load(Self.sortChunk, chunkName: "=sort"))
    }

    func expectPermutation(
        _ sandbox: LuaSandbox, _ functions: LuaReference, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        sandbox.limits = Self.setup
        #expect(try sandbox.call(functions, field: "permutation") == .boolean(true), sourceLocation: sourceLocation)
        #expect(sandbox.stackDepth == 0, sourceLocation: sourceLocation)
    }

    // MARK: - sort

    @Test(arguments: ["sort", "sortBy"], [1, 3, 5, 7, 9])
    func sortStoppedByTheBudgetLeavesAPermutation(function: String, tenths: Int) throws {
        // The whole sort's charge, then a budget that stops it part way.
        let (measuring, measured) = try prepareSort()
        _ = try measuring.call(measured, field: function)
        let full = measuring.lastCallInstructions
        #expect(full > 100_000)

        let (sandbox, functions) = try prepareSort()
        sandbox.limits = ScriptLimits(instructions: full * tenths / 10, deadline: nil, memory: 256 << 20)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(functions, field: function) }
        #expect(error?.code == .instructionBudget, "\(String(describing: error))")
        try expectPermutation(sandbox, functions)
    }

    @Test(arguments: ["sort", "sortBy"])
    func sortStoppedByTheDeadlineLeavesAPermutation(function: String) throws {
        let (sandbox, functions) = try prepareSort()
        sandbox.limits = ScriptLimits(instructions: nil, deadline: .milliseconds(1), memory: 256 << 20)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(functions, field: function) }
        #expect(error?.code == .deadline, "\(String(describing: error))")
        try expectPermutation(sandbox, functions)
    }

    @Test(arguments: ["sortRaising", "sortRaisingLessThan"], [1, 50, 5_000, 100_000, 200_000])
    func sortWhoseComparisonRaisesLeavesAPermutation(function: String, after: Int) throws {
        let (sandbox, functions) = try prepareSort()
        let error = #expect(throws: ScriptError.self) {
            try sandbox.call(functions, field: function, arguments: [.value(.integer(Int64(after)))])
        }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("broke") == true, "\(String(describing: error))")
        try expectPermutation(sandbox, functions)
    }

    @Test func sortThatFinishesIsSorted() throws {
        let (sandbox, functions) = try prepareSort()
        _ = try sandbox.call(functions, field: "sortBy")
        #expect(try sandbox.call(functions, field: "sorted") == .boolean(true))
        try expectPermutation(sandbox, functions)
    }

    // MARK: - insert, remove, move

    @Test(arguments: [
        "table.insert(list, 1, 0)",
        "table.remove(list, 1)",
        "table.move(list, 1, #list, 2)",
        "table.move(list, 2, #list, 1)",
    ])
    func shiftStoppedByTheBudgetChangesNothing(body: String) throws {
        let sandbox = try LuaSandbox(limits: Self.setup)
        let functions = try sandbox.load(
            """
            local list = {}
            for i = 1, 200000 do list[i] = i end
            return {
              shift = function() \(body) end,
              intact = function()
                if #list ~= 200000 then return false end
                for i = 1, 200000 do if list[i] ~= i then return false end end
                return true
              end,
            }
            """, chunkName: "=shift")
        // Moving 200,000 elements costs far more than 50,000 instructions.
        sandbox.limits = ScriptLimits(instructions: 50_000, deadline: nil, memory: 256 << 20)
        let error = #expect(throws: ScriptError.self) { try sandbox.call(functions, field: "shift") }
        #expect(error?.code == .instructionBudget, "\(String(describing: error))")
        sandbox.limits = Self.setup
        #expect(try sandbox.call(functions, field: "intact") == .boolean(true))
    }
}
