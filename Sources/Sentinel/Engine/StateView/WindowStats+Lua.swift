import Resilience
import ScriptHost

extension WindowStats {
    /// The window fields scripts read; zeros with no traffic, never NaN.
    var luaFields: [LuaKey: LuaValue] {
        [
            "calls": .integer(Int64(calls)), "successes": .integer(Int64(successes)),
            "failures": .integer(Int64(failures)), "error_rate": .number(errorRate.isFinite ? errorRate : 0),
            "timeouts": .integer(Int64(timeouts)), "rejections": .integer(Int64(rejections)),
            "p50": .number(p50), "p90": .number(p90), "p99": .number(p99), "max": .number(max),
        ]
    }
}
