// ScriptHost figures, each against its baseline in the same run: the raw Lua C
// API driven from Swift (lua_pcall with a message handler, no limits).
import Benchmark
import RawLua
import ScriptHost

#if canImport(Glibc)
import Glibc
#endif

let rule = "return function(x) return x.calls + 1 end"
let loop = "return function() local n = 0 for i = 1, 100000 do n = n + i % 7 end return n end"

/// A plain state with the standard libraries and no hook: the baseline.
final class RawLua {
    let state: OpaquePointer
    let function: Int32
    let handler: Int32

    init(_ source: String) {
        state = luaL_newstate()
        luaL_openlibs(state)
        _ = raw_lua_load(state, source, source.utf8.count, "=raw")
        raw_lua_call(state, 0, 1)
        function = luaL_ref(state, RAW_LUA_REGISTRYINDEX)
        raw_lua_push_globals(state)
        lua_getfield(state, -1, "debug")
        lua_getfield(state, -1, "traceback")
        handler = luaL_ref(state, RAW_LUA_REGISTRYINDEX)
        raw_lua_pop(state, 2)
    }

    deinit { lua_close(state) }

    /// Calls the rule with `{ calls = 41 }` and reads the integer result.
    @inline(__always)
    func callRule() -> Int64 {
        lua_rawgeti(state, RAW_LUA_REGISTRYINDEX, lua_Integer(handler))
        lua_rawgeti(state, RAW_LUA_REGISTRYINDEX, lua_Integer(function))
        lua_createtable(state, 0, 1)
        lua_pushinteger(state, 41)
        lua_setfield(state, -2, "calls")
        _ = raw_lua_pcall(state, 1, 1, -3)
        let result = lua_tointegerx(state, -1, nil)
        lua_settop(state, 0)
        return Int64(result)
    }

    func callLoop() -> Int64 {
        lua_rawgeti(state, RAW_LUA_REGISTRYINDEX, lua_Integer(handler))
        lua_rawgeti(state, RAW_LUA_REGISTRYINDEX, lua_Integer(function))
        _ = raw_lua_pcall(state, 0, 1, -2)
        let result = lua_tointegerx(state, -1, nil)
        lua_settop(state, 0)
        return Int64(result)
    }
}

/// The statistics of one window, as the observer keeps them.
struct WindowStats {
    var calls: Int
    var successes: Int
    var failures: Int
    var timeouts: Int
    var rejections: Int
    var p50, p90, p99, max: Double

    /// One field, computed when a script reads it.
    func luaField(_ name: String) -> LuaValue? {
        switch name {
        case "calls": .integer(Int64(calls))
        case "successes": .integer(Int64(successes))
        case "failures": .integer(Int64(failures))
        case "error_rate": .number(calls == 0 ? 0 : Double(failures) / Double(calls))
        case "timeouts": .integer(Int64(timeouts))
        case "rejections": .integer(Int64(rejections))
        case "p50": .number(p50)
        case "p90": .number(p90)
        case "p99": .number(p99)
        case "max": .number(max)
        default: nil
        }
    }

    static let fieldNames: [LuaKey] = [
        "calls", "error_rate", "failures", "max", "p50", "p90", "p99", "rejections", "successes", "timeouts",
    ]

    /// Every field at once (the eager copy).
    var luaFields: [LuaKey: LuaValue] {
        [
            "calls": .integer(Int64(calls)), "successes": .integer(Int64(successes)),
            "failures": .integer(Int64(failures)),
            "error_rate": .number(calls == 0 ? 0 : Double(failures) / Double(calls)),
            "timeouts": .integer(Int64(timeouts)), "rejections": .integer(Int64(rejections)),
            "p50": .number(p50), "p90": .number(p90), "p99": .number(p99), "max": .number(max),
        ]
    }
}

/// A snapshot of `count` pipelines with four windows each, built once; each
/// evaluation wraps it in fresh view objects, which compute a window only
/// when the script reads it. Shaped like the Sentinel's `StateView`.
final class Snapshot: @unchecked Sendable {
    static let windowNames = ["10s", "1m", "5m", "15m"]
    let names: [String]
    let index: [String: Int]
    let windows: [[WindowStats]]

    init(count: Int) {
        names = (0..<count).map { "p\($0)" }
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        windows = (0..<count).map { pipeline in
            Self.windowNames.indices.map { window in
                WindowStats(
                    calls: 100 + pipeline + window, successes: 90, failures: 10 + pipeline % 7, timeouts: 1,
                    rejections: 2, p50: 0.01, p90: 0.05, p99: 0.2, max: 0.5)
            }
        }
    }

    /// The same data copied eagerly into one value.
    func eager() -> LuaValue {
        var pipelines: [LuaKey: LuaValue] = [:]
        for (pipeline, name) in names.enumerated() {
            var windows: [LuaKey: LuaValue] = [:]
            for (window, windowName) in Self.windowNames.enumerated() {
                windows[.string(windowName)] = .table(self.windows[pipeline][window].luaFields)
            }
            pipelines[.string(name)] = ["windows": .table(windows), "breaker": ["state": "closed"]]
        }
        return ["pipelines": .table(pipelines)]
    }
}

final class StateSource: LuaTableSource {
    let snapshot: Snapshot
    init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string("pipelines") = key else { return nil }
        return .table(PipelinesSource(snapshot))
    }
    func luaKeys() -> [LuaKey] { ["pipelines"] }
}

final class PipelinesSource: LuaTableSource {
    let snapshot: Snapshot
    init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key, let index = snapshot.index[name] else { return nil }
        return .table(PipelineSource(snapshot, index))
    }
    func luaKeys() -> [LuaKey] { snapshot.names.map { .string($0) } }
}

final class PipelineSource: LuaTableSource {
    let snapshot: Snapshot
    let pipeline: Int
    init(_ snapshot: Snapshot, _ pipeline: Int) {
        self.snapshot = snapshot
        self.pipeline = pipeline
    }
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        switch key {
        case "windows": .table(WindowsSource(snapshot, pipeline))
        case "breaker": .table(LuaValueTable(["state": "closed"]))
        default: nil
        }
    }
    func luaKeys() -> [LuaKey] { ["breaker", "windows"] }
}

final class WindowsSource: LuaTableSource {
    let snapshot: Snapshot
    let pipeline: Int
    init(_ snapshot: Snapshot, _ pipeline: Int) {
        self.snapshot = snapshot
        self.pipeline = pipeline
    }
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key, let window = Snapshot.windowNames.firstIndex(of: name) else { return nil }
        return .table(WindowSource(stats: snapshot.windows[pipeline][window]))
    }
    func luaKeys() -> [LuaKey] { Snapshot.windowNames.map { .string($0) } }
}

/// One window: each field computed when read (no dictionary per window).
final class WindowSource: LuaTableSource {
    let stats: WindowStats
    init(stats: WindowStats) { self.stats = stats }
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key, let value = stats.luaField(name) else { return nil }
        return .value(value)
    }
    func luaKeys() -> [LuaKey] { WindowStats.fieldNames }
}

func readTen(stride: Int) -> String {
    """
    return function(state)
      local total = 0
      for i = 0, 9 do
        local w = state.pipelines['p' .. (i * \(stride))].windows['1m']
        if w.calls >= 50 and w.error_rate > 0.05 then total = total + w.p99 end
      end
      return total
    end
    """
}

let fiveKilobyteScript: String = {
    var source = "local rules = {}\n"
    var index = 0
    while source.utf8.count < 5 * 1024 {
        source +=
            "rules[\(index)] = function(state) local w = state.windows['1m'] if w.error_rate > 0.\(index % 9 + 1) then return \(index) end return nil end\n"
        index += 1
    }
    return source + "return { name = 'five', interval = '5s', evaluate = function(state) return rules[1](state) end }\n"
}()

/// Library workloads: (name, chunk-level setup, body of the measured function).
/// Each body returns an integer so that the raw baseline reads a result.
let libraryWorkloads: [(String, String, String)] = [
    (
        "string.find with a pattern, 10 KB, no match",
        "local s = ('ab12 cd34 '):rep(1100)",
        "local n = 0 for i = 1, 10 do if s:find('%d%d%d%a') then n = n + 1 end end return n"
    ),
    (
        "string.find backtracking a-b, 2 KB",
        "local s = ('a'):rep(2000)",
        "return s:find('a-b') or 0"
    ),
    (
        "string.match captures, 1,000 lines",
        "local lines = {} for i = 1, 1000 do lines[i] = 'key' .. i .. ' = value' .. i end",
        "local n = 0 for i = 1, #lines do local k, v = lines[i]:match('^(%w+)%s*=%s*(%w+)$') if k then n = n + 1 end end return n"
    ),
    (
        "string.gmatch words, 10 KB",
        "local s = ('alpha beta gamma delta '):rep(450)",
        "local n = 0 for w in s:gmatch('%a+') do n = n + 1 end return n"
    ),
    (
        "string.gsub digits, 10 KB",
        "local s = ('ab12 cd34 '):rep(1100)",
        "local r, n = s:gsub('%d+', '#') return n"
    ),
    (
        "string.gsub %b() and %f, 10 KB",
        "local s = ('call(a, (b)) word '):rep(550)",
        "local r, n = s:gsub('%b()', '') local r2, n2 = r:gsub('%f[%w]%w+', 'W') return n + n2"
    ),
    (
        "string.rep 100 KB",
        "",
        "return #(('abc'):rep(33000, ','))"
    ),
    (
        "string.format 1,000 times",
        "",
        "local n = 0 for i = 1, 1000 do n = n + #string.format('%d:%5.2f:%s', i, i / 3, 'x') end return n"
    ),
    (
        "table.sort 10k numbers",
        "local base = {} for i = 1, 10000 do base[i] = (i * 7919) % 10007 end",
        "local t = table.move(base, 1, #base, 1, {}) table.sort(t) return t[1]"
    ),
    (
        "table.sort 10k numbers with a comparator",
        "local base = {} for i = 1, 10000 do base[i] = (i * 7919) % 10007 end",
        "local t = table.move(base, 1, #base, 1, {}) table.sort(t, function(a, b) return a > b end) return t[1]"
    ),
    (
        "table.sort 10k strings",
        "local base = {} for i = 1, 10000 do base[i] = 'k' .. ((i * 7919) % 10007) end",
        "local t = table.move(base, 1, #base, 1, {}) table.sort(t) return #t[1]"
    ),
    (
        "pairs over 1,000 mixed keys",
        "local t = {} for i = 1, 500 do t[i] = i t['k' .. i] = i end",
        "local n = 0 for k, v in pairs(t) do n = n + v end return n"
    ),
    (
        "table.concat 10k",
        "local t = {} for i = 1, 10000 do t[i] = 'x' .. i end",
        "return #table.concat(t, ',')"
    ),
    (
        "table.insert and table.remove at the front, 1,000",
        "",
        "local t = {} for i = 1, 1000 do table.insert(t, 1, i) end for i = 1, 1000 do table.remove(t, 1) end return #t"
    ),
    (
        "table.unpack 200 values",
        "local t = {} for i = 1, 200 do t[i] = i end",
        "local n = 0 for i = 1, 100 do n = n + select('#', table.unpack(t)) end return n"
    ),
]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    // MARK: Calling a rule with a one-field table

    Benchmark("call rule: raw Lua C API (baseline)") { benchmark in
        let raw = RawLua(rule)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(raw.callRule()) }
    }

    Benchmark("call rule: LuaSandbox, default limits") { benchmark in
        let sandbox = try LuaSandbox()
        let function = try sandbox.load(rule, chunkName: "=rule")
        let argument: LuaInput = .value(["calls": 41])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function, argument)) }
    }

    Benchmark("call rule: LuaSandbox, deadline + memory (hookless)") { benchmark in
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: nil))
        let function = try sandbox.load(rule, chunkName: "=rule")
        let argument: LuaInput = .value(["calls": 41])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function, argument)) }
    }

    // MARK: The limit hook on a loop-heavy script

    Benchmark("loop 100k: raw Lua, no hook (baseline)", configuration: .init(scalingFactor: .one)) { benchmark in
        let raw = RawLua(loop)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(raw.callLoop()) }
    }

    // Any count hook makes Lua 5.4 call luaG_traceexec on every instruction,
    // whatever the count: this is the cost of a deterministic budget.
    Benchmark("loop 100k: raw Lua, empty count hook every 1000", configuration: .init(scalingFactor: .one)) {
        benchmark in
        let raw = RawLua(loop)
        lua_sethook(raw.state, { _, _ in }, 1 << 3, 1000)  // LUA_MASKCOUNT
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(raw.callLoop()) }
    }

    Benchmark("loop 100k: raw Lua, empty count hook every 1e9", configuration: .init(scalingFactor: .one)) {
        benchmark in
        let raw = RawLua(loop)
        lua_sethook(raw.state, { _, _ in }, 1 << 3, 1_000_000_000)  // LUA_MASKCOUNT
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(raw.callLoop()) }
    }

    Benchmark("loop 100k: LuaSandbox, default limits (budget: hook on)", configuration: .init(scalingFactor: .one)) {
        benchmark in
        let sandbox = try LuaSandbox()
        let function = try sandbox.load(loop, chunkName: "=loop")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function)) }
    }

    Benchmark("loop 100k: LuaSandbox, deadline + memory (hookless)", configuration: .init(scalingFactor: .one)) {
        benchmark in
        let sandbox = try LuaSandbox(limits: ScriptLimits(instructions: nil))
        let function = try sandbox.load(loop, chunkName: "=loop")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function)) }
    }

    // MARK: Reading 10 of 1,000 pipelines

    // The snapshot is built once (the observer keeps it); each evaluation
    // gets fresh view objects, as the sentinel makes per tick.
    let thousand = Snapshot(count: 1000)
    let ten = Snapshot(count: 10)

    Benchmark("read 10 of 1000 pipelines: lazy view", configuration: .init(scalingFactor: .one)) { benchmark in
        let sandbox = try LuaSandbox()
        let function = try sandbox.load(readTen(stride: 97), chunkName: "=ten")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try sandbox.call(function, .view(StateSource(thousand))))
        }
    }

    Benchmark("read 10 of 1000 pipelines: eager copy", configuration: .init(scalingFactor: .one)) { benchmark in
        let sandbox = try LuaSandbox()
        let function = try sandbox.load(readTen(stride: 97), chunkName: "=ten")
        let snapshot = thousand.eager()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function, .value(snapshot))) }
    }

    Benchmark("read 10 of 10 pipelines: lazy view", configuration: .init(scalingFactor: .one)) { benchmark in
        let sandbox = try LuaSandbox()
        let function = try sandbox.load(readTen(stride: 1), chunkName: "=ten")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function, .view(StateSource(ten)))) }
    }

    // MARK: A fresh state with a 5 KB script

    Benchmark("fresh sandbox + 5 KB script", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations {
            let sandbox = try LuaSandbox()
            blackHole(try sandbox.load(fiveKilobyteScript, chunkName: "=five"))
        }
    }

    // MARK: Bounded string and table functions against the stock library

    // Each workload runs in a raw state (stock library, no limits) and in a
    // sandbox with a generous deadline and memory cap, so the bounded
    // functions poll the limits as they would in production (hookless).
    let generous = ScriptLimits(instructions: nil, deadline: .seconds(10), memory: 64 << 20)
    for (name, setup, body) in libraryWorkloads {
        let source = "\(setup)\nreturn function() \(body) end"
        Benchmark("library \(name): raw Lua (baseline)", configuration: .init(scalingFactor: .one)) { benchmark in
            let raw = RawLua(source)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(raw.callLoop()) }
        }
        Benchmark("library \(name): LuaSandbox", configuration: .init(scalingFactor: .one)) { benchmark in
            let sandbox = try LuaSandbox(limits: generous)
            let function = try sandbox.load(source, chunkName: "=library")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try sandbox.call(function)) }
        }
    }

    // MARK: Overshoot of long library calls past a 20 ms deadline (no budget)

    let deadlineOnly = ScriptLimits(instructions: nil, deadline: .milliseconds(20), memory: 16 << 20)
    for (name, body) in [
        ("backtracking find", "return ('a'):rep(3000):find('a-a-a-a-a-a-b')"),
        ("string.rep of empty 3e9", "return string.rep('', 3e9)"),
        ("table.sort 500k", "local t = {} for i = 1, 500000 do t[i] = (i * 7919) % 500000 end table.sort(t)"),
        ("plain find worst case", "return ('a'):rep(1e6):find(('a'):rep(5000) .. 'b', 1, true)"),
        (
            "table.insert under a __len of 2^62",
            "local t = setmetatable({}, { __len = function() return 1 << 62 end }) table.insert(t, 1, 'x')"
        ),
        ("backtracking gsub", "return string.gsub(('a'):rep(3000), 'a-a-a-a-a-a-b', '')"),
    ] {
        Benchmark("deadline 20 ms: \(name)", configuration: .init(scalingFactor: .one, maxIterations: 20)) { benchmark in
            let sandbox = try LuaSandbox(limits: deadlineOnly)
            let function = try sandbox.load("return function() \(body) end", chunkName: "=long")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try? sandbox.call(function)) }
        }
    }
}
