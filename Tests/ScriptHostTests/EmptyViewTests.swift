import Testing

@testable import ScriptHost

/// Iterating a view with no keys (a state with no pipelines) once crashed the
/// process: the key list was built one slot off.
@Suite struct EmptyViewTests {
    @Test func pairsOverAnEmptyViewVisitsNothing() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            """
            return function(state)
              local n = 0
              for _ in pairs(state.empty) do n = n + 1 end
              for _ in pairs(state) do n = n + 1 end
              return n, next(state.empty)
            end
            """, chunkName: "=empty")
        let results = try sandbox.callReturningAll(rule, arguments: [.view(LuaValueTable(["empty": [:]]))])
        #expect(results == [1, .nil])
        #expect(sandbox.stackDepth == 0)
    }
}
