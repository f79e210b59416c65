import CLua
import Foundation
import Testing

@testable import ScriptHost

/// Differential testing of the bounded libraries: the same call runs through
/// the stock Lua library in a plain, unsandboxed state and through ours in a
/// `LuaSandbox`; both sides run the same harness (`DifferentialHarness.source`),
/// which returns the results, or the error message, as one string.
enum Differential {
    /// Cases per function: the suite's default, or `SENTINEL_DIFFERENTIAL_CASES`
    /// (`make fuzz-scripthost` sets it).
    static func cases(_ suiteDefault: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment["SENTINEL_DIFFERENTIAL_CASES"], let count = Int(text), count > 0 {
            return count
        }
        return suiteDefault
    }

    /// The generator's seed: fixed, or `SENTINEL_DIFFERENTIAL_SEED`.
    static var seed: UInt64 {
        if let text = ProcessInfo.processInfo.environment["SENTINEL_DIFFERENTIAL_SEED"], let seed = UInt64(text) {
            return seed
        }
        return 0x5EED_1405
    }

    /// Generous limits: the cases are small, and a limit hit is a failure here.
    static let limits = ScriptLimits(instructions: 500_000_000, deadline: nil, memory: 256 << 20)
}

/// SplitMix64: a small, seeded, reproducible generator.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An argument of a case, written both as a Lua literal (stock side) and as
/// a `LuaValue` (sandbox side).
enum Argument: CustomStringConvertible, Sendable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case bytes([UInt8])
    case list([Argument])

    static func text(_ string: String) -> Argument { .bytes(Array(string.utf8)) }

    var luaLiteral: String {
        switch self {
        case .nil: return "nil"
        case .boolean(let value): return value ? "true" : "false"
        case .integer(let value): return value == .min ? "math.mininteger" : "(\(value))"
        case .number(let value):
            if value.isNaN { return "(0/0)" }
            if value.isInfinite { return value > 0 ? "math.huge" : "(-math.huge)" }
            return "(" + String(format: "%a", value) + ")"
        case .bytes(let bytes): return "\"" + bytes.map { "\\\($0)" }.joined() + "\""
        case .list(let items): return "{" + items.map(\.luaLiteral).joined(separator: ", ") + "}"
        }
    }

    var luaValue: LuaValue {
        switch self {
        case .nil: return .nil
        case .boolean(let value): return .boolean(value)
        case .integer(let value): return .integer(value)
        case .number(let value): return .number(value)
        case .bytes(let bytes): return .bytes(bytes)
        case .list(let items):
            var table: [LuaKey: LuaValue] = [:]
            for (index, item) in items.enumerated() { table[.integer(Int64(index + 1))] = item.luaValue }
            return .table(table)
        }
    }

    var description: String {
        switch self {
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self).debugDescription
        default: return luaLiteral
        }
    }
}

/// The harness both sides load: `run(operation, ...)` returns "ok" and the
/// shown results, or "error" and the message, one per line.
enum DifferentialHarness {
    static let source = """
        local format, mathtype, concat, pack, unpack = string.format, math.type, table.concat, table.pack, table.unpack
        local show
        show = function(v)
          local t = type(v)
          if t == "string" then return format("%q", v) end
          if t == "number" then return mathtype(v) .. ":" .. format("%.17g", v) end
          if t == "table" then
            local parts = {}
            for i = 1, #v do parts[i] = show(v[i]) end
            return "{" .. concat(parts, ",") .. "}"
          end
          return tostring(v)
        end
        local replacements = { a = "<A>", b = false, ab = 12, ["1"] = 1.5, [""] = "<E>", x = "%" }
        local ops = {
          find = string.find, match = string.match, gsub = string.gsub,
          rep = string.rep, sub = string.sub, byte = string.byte, char = string.char,
          upper = string.upper, lower = string.lower, reverse = string.reverse,
          format = string.format, len = string.len,
          gmatch = function(s, p, init)
            local out, next_match = {}, string.gmatch(s, p, init)
            while true do
              local r = pack(next_match())
              if r[1] == nil then return out end
              out[#out + 1] = r
              if #out > 10000 then error("runaway gmatch") end
            end
          end,
          gsub_table = function(s, p, n) return string.gsub(s, p, replacements, n) end,
          gsub_function = function(s, p, n)
            return string.gsub(s, p, function(...)
              local first = ...
              if first == "b" then return nil end
              if first == "t" then return {} end
              return "<" .. concat(pack(...), "|", 1, select("#", ...)) .. ">"
            end, n)
          end,
          insert = function(list, ...) table.insert(list, ...) return list end,
          remove = function(list, ...) local v = table.remove(list, ...) return v, list end,
          move = function(list, f, e, t, other)
            local destination = other and {} or list
            local r = table.move(list, f, e, t, other and destination or nil)
            return r == destination, list, destination
          end,
          concat = table.concat, unpack = table.unpack,
          sort = function(list, order)
            if order == "desc" then table.sort(list, function(a, b) return a > b end)
            elseif order == "always" then table.sort(list, function(a, b) return true end)
            elseif order == "never" then table.sort(list, function(a, b) return false end)
            else table.sort(list) end
            return list
          end,
        }
        return function(name, ...)
          local r = pack(pcall(ops[name], ...))
          if not r[1] then return "error\\n" .. tostring(r[2]) end
          local lines = { "ok" }
          for i = 2, r.n do
            local v = r[i]
            if type(v) == "table" and v.n then
              local parts = {}
              for k = 1, v.n do parts[k] = show(v[k]) end
              lines[#lines + 1] = "(" .. concat(parts, ",") .. ")"
            elseif type(v) == "table" and type(v[1]) == "table" then
              local parts = {}
              for k = 1, #v do
                local inner = {}
                for j = 1, v[k].n do inner[j] = show(v[k][j]) end
                parts[k] = "(" .. concat(inner, ",") .. ")"
              end
              lines[#lines + 1] = "[" .. concat(parts, ",") .. "]"
            else
              lines[#lines + 1] = show(v)
            end
          end
          return concat(lines, "\\n")
        end
        """
}

/// An outcome of one side, with error messages reduced to what both sides
/// can agree on (the function name in "bad argument" differs: stock Lua
/// finds 'string.find' in its loaded table, the sandbox says 'find').
struct Outcome: Equatable, CustomStringConvertible {
    let ok: Bool
    let lines: [String]

    init(raw: [UInt8]) {
        var lines = String(decoding: raw, as: UTF8.self).components(separatedBy: "\n")
        ok = lines.first == "ok"
        lines.removeFirst()
        if !ok, let message = lines.first {
            lines = [Outcome.normalize(message)]
        }
        self.lines = lines
    }

    static func normalize(_ message: String) -> String {
        var message = message
        if let range = message.range(of: "bad argument #") {
            let rest = message[range.upperBound...]
            if let to = rest.range(of: " to '"), let close = rest[to.upperBound...].firstIndex(of: "'") {
                message = "bad argument #" + rest[..<to.lowerBound] + rest[rest.index(after: close)...]
            }
        }
        return message
    }

    var description: String { (ok ? "ok " : "error ") + lines.joined(separator: " | ") }
}

/// The stock library in a plain state (no sandbox, no limits). Every call
/// goes through `luaL_loadbufferx` and `lua_pcall` of a code string, so no
/// Lua error can reach a Swift frame.
final class StockLua {
    let state: OpaquePointer

    init() {
        state = luaL_newstate()
        luaL_openlibs(state)
        let setup = "H = (function() \(DifferentialHarness.source) end)()"
        precondition(run(setup) != nil, "the harness does not load in stock Lua")
    }

    deinit { lua_close(state) }

    /// Runs `source` as a chunk; returns its first result's bytes, or nil on error.
    func run(_ source: String) -> [UInt8]? {
        defer { lua_settop(state, 0) }
        let bytes = Array(source.utf8)
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { clua_loadbufferx(state, $0.baseAddress, $0.count, "=harness", "t") }
        }
        guard status == CLUA_OK, clua_pcall(state, 0, 1, 0) == CLUA_OK else { return nil }
        var length = 0
        guard lua_type(state, -1) == CLUA_TSTRING, let pointer = lua_tolstring(state, -1, &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    func outcome(_ operation: String, _ arguments: [Argument]) -> Outcome {
        let call = "return H(\"\(operation)\"" + arguments.map { ", " + $0.luaLiteral }.joined() + ")"
        return Outcome(raw: run(call) ?? Array("error\nharness failed".utf8))
    }
}

/// Our library in a sandbox, through the same harness.
final class SandboxedLua {
    let sandbox: LuaSandbox
    let harness: LuaReference

    init() throws {
        sandbox = try LuaSandbox(limits: Differential.limits)
        harness = try sandbox.load(DifferentialHarness.source, chunkName: "=harness")
    }

    func outcome(_ operation: String, _ arguments: [Argument]) -> Outcome {
        let inputs: [LuaInput] = [.value(.bytes(Array(operation.utf8)))] + arguments.map { .value($0.luaValue) }
        do {
            switch try sandbox.call(harness, arguments: inputs) {
            case .string(let text): return Outcome(raw: Array(text.utf8))
            case .bytes(let bytes): return Outcome(raw: bytes)
            case let other: return Outcome(raw: Array("error\nharness returned \(other)".utf8))
            }
        } catch {
            return Outcome(raw: Array("error\nsandbox: \(error)".utf8))
        }
    }
}

/// Runs cases through both sides and records every divergence (at most a
/// few in detail, then a count).
struct DifferentialRun {
    let stock = StockLua()
    let ours: SandboxedLua
    var divergences = 0
    var cases = 0

    init() throws { ours = try SandboxedLua() }

    /// Compares one case; `equivalent` decides when exact equality is too strict.
    mutating func check(
        _ operation: String, _ arguments: [Argument],
        equivalent: ((Outcome, Outcome) -> Bool)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        cases += 1
        let expected = stock.outcome(operation, arguments)
        let actual = ours.outcome(operation, arguments)
        let same = equivalent?(expected, actual) ?? (expected == actual)
        if !same {
            divergences += 1
            if divergences <= 5 {
                Issue.record(
                    "\(operation)(\(arguments.map(\.description).joined(separator: ", "))): stock \(expected), ours \(actual)",
                    sourceLocation: sourceLocation)
            }
        }
    }

    func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(divergences == 0, "\(divergences) of \(cases) cases diverged", sourceLocation: sourceLocation)
        #expect(ours.sandbox.stackDepth == 0, sourceLocation: sourceLocation)
    }
}
