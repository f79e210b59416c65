// A small tour of ScriptHost: a rule runs in a sandbox against read-only
// sample data over three ticks, calls back into Swift, and a runaway edit of
// the same rule is stopped by its limits. `make run` runs this.
import ScriptHost

#if canImport(Glibc)
import Glibc
#endif

let rule = """
    -- Cut retries when the error rate is high; restore them when calm.
    return function(state, memory)
      local window = state.pipelines.checkout.windows["1m"]
      memory.ticks = (memory.ticks or 0) + 1
      if window.calls >= 50 and window.error_rate > 0.3 then
        host.decide("checkout.retry.max_attempts", 1,
          string.format("error rate %.0f%% over %d calls", window.error_rate * 100, window.calls))
      elseif window.error_rate < 0.05 then
        host.decide("checkout.retry.max_attempts", 3, "calm")
      end
      return memory.ticks
    end
    """

func sample(calls: Int, errorRate: Double) -> LuaValueTable {
    LuaValueTable([
        "pipelines": ["checkout": ["windows": ["1m": ["calls": .integer(Int64(calls)), "error_rate": .number(errorRate)]]]]
    ])
}

do {
    let sandbox = try LuaSandbox()
    nonisolated(unsafe) var decisions: [String] = []
    try sandbox.register("decide", in: "host") { arguments in
        try arguments.expectCount(3...3)
        let parameter = try arguments.string(1)
        let value = try arguments.number(2)
        let reason = try arguments.string(3)
        decisions.append("\(parameter) = \(value)  (\(reason))")
        return []
    }
    let evaluate = try sandbox.load(rule, chunkName: "@examples/rule.lua")
    let memory = try sandbox.makeReference(.value([:]))

    print("ScriptHost demo: one rule, three ticks of sample data\n")
    for (calls, errorRate) in [(120, 0.02), (200, 0.42), (180, 0.01)] {
        decisions.removeAll()
        let tick = try sandbox.call(evaluate, .view(sample(calls: calls, errorRate: errorRate)), .reference(memory))
        let decided = decisions.isEmpty ? "nothing" : decisions.joined(separator: "; ")
        print("tick \(tick): calls=\(calls) error_rate=\(errorRate) -> \(decided)")
    }

    print("\nA broken edit and a runaway edit are refused with a clear error:")
    do {
        _ = try sandbox.load("return function(state)\n  if state then\nend", chunkName: "@examples/rule.lua")
    } catch {
        print("  \(error)")
    }
    let runaway = try sandbox.load("return function() while true do end end", chunkName: "@examples/runaway.lua")
    do {
        _ = try sandbox.call(runaway)
    } catch {
        print("  \(error.code): \(error)")
    }
    print("\nThe sandbox still works: tick \(try sandbox.call(evaluate, .view(sample(calls: 10, errorRate: 0)), .reference(memory)))")
} catch {
    print("error: \(error)")
    exit(1)
}
