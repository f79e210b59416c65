import Testing

@testable import ScriptHost

/// A source that counts lookups, to prove views are lazy.
final class CountingSource: LuaTableSource {
    let size: Int
    private(set) var lookups = 0

    init(size: Int) { self.size = size }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        lookups += 1
        guard case .string(let name) = key, name.hasPrefix("p"), let index = Int(name.dropFirst()), index < size else {
            return nil
        }
        return .table(LuaValueTable(["calls": .integer(Int64(index)), "windows": ["1m": ["error_rate": 0.5]]]))
    }

    func luaKeys() -> [LuaKey] { (0..<size).map { LuaKey.string("p\($0)") }.sorted() }
}

/// Read-only views: lazy, cached, iterable, and refusing writes.
@Suite struct ViewTests {
    @Test func scriptReadsNestedFields() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            "return function(state) return state.pipelines.checkout.windows['1m'].error_rate end", chunkName: "=read")
        let state = LuaValueTable(["pipelines": ["checkout": ["windows": ["1m": ["error_rate": 0.25]]]]])
        #expect(try sandbox.call(rule, .view(state)) == .number(0.25))
        #expect(sandbox.stackDepth == 0)
    }

    @Test(arguments: [
        "state.x = 1",
        "state.pipelines.checkout = nil",
        "state.pipelines.checkout.calls = 0",
        "table.insert(state.list, 4)",
        "rawset = nil; state[1] = true",
    ])
    func assignmentRaises(body: String) throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(state)\n  \(body)\nend", chunkName: "@write.lua")
        let state = LuaValueTable(["pipelines": ["checkout": ["calls": 3]], "list": [1, 2, 3]])
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule, .view(state)) }
        #expect(error?.code == .runtime)
        #expect(error?.message.contains("read-only table") == true, "\(String(describing: error))")
        #expect(error?.line == 2)
    }

    @Test func viewLooksLikeATable() throws {
        let sandbox = try LuaSandbox()
        let source = """
            return function(state)
              local keys = {}
              for k, v in pairs(state.map) do keys[#keys + 1] = k .. '=' .. tostring(v) end
              local sum = 0
              for i, v in ipairs(state.list) do sum = sum + v end
              return type(state), #state.list, table.concat(keys, ','), sum, next(state.map), next(state.empty)
            end
            """
        let rule = try sandbox.load(source, chunkName: "=shape")
        let state = LuaValueTable(["map": ["b": 2, "a": 1, "c": 3], "list": [10, 20, 30], "empty": [:]])
        let results = try sandbox.callReturningAll(rule, arguments: [.view(state)])
        #expect(results == ["table", 3, "a=1,b=2,c=3", 60, "a", .nil])
    }

    @Test func readingTenOfAThousandLooksUpTen() throws {
        let sandbox = try LuaSandbox()
        let source = """
            return function(state)
              local total = 0
              for i = 0, 9 do
                local p = state['p' .. i]
                total = total + p.calls + p.calls + p.windows['1m'].error_rate
              end
              return total
            end
            """
        let rule = try sandbox.load(source, chunkName: "=ten")
        let source1000 = CountingSource(size: 1000)
        #expect(try sandbox.call(rule, .view(source1000)) == .number(95))
        #expect(source1000.lookups == 10)
    }

    @Test func viewsKeptInMemoryOutliveTheCall() throws {
        let sandbox = try LuaSandbox()
        let memory = try sandbox.makeReference(.value([:]))
        let rule = try sandbox.load(
            "return function(state, memory) local last = memory.last memory.last = state.window return last and last.calls end",
            chunkName: "=keep")
        #expect(try sandbox.call(rule, .view(LuaValueTable(["window": ["calls": 1]])), .reference(memory)) == .nil)
        sandbox.collectGarbage()
        #expect(try sandbox.call(rule, .view(LuaValueTable(["window": ["calls": 2]])), .reference(memory)) == 1)
    }

    @Test func viewsCannotBeCopiedOutToSwift() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(state) return { inner = state } end", chunkName: "=out")
        let error = #expect(throws: ScriptError.self) { try sandbox.call(rule, .view(LuaValueTable([:]))) }
        #expect(error?.code == .type)
        #expect(error?.message.hasPrefix("result.inner: a read-only table cannot be converted") == true)
    }

    @Test func metatableOfAViewIsLocked() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(
            "return function(state) local ok = pcall(setmetatable, state, {}) return getmetatable(state), ok end",
            chunkName: "=mt")
        #expect(try sandbox.callReturningAll(rule, arguments: [.view(LuaValueTable([:]))]) == [false, false])
    }
}
