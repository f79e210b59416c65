import Resilience
import ScriptHost

/// The table a script returns, checked.
///
/// ```lua
/// return {
///   name = "shed-retries",   -- optional, defaults to the file name
///   interval = "5s",         -- required, at least 100ms
///   dry_run = false,         -- optional
///   fresh_memory = false,    -- optional: on reload, start with an empty memory
///   staged = 0,              -- optional: on reload, run the new version in dry run for N evaluations first
///   evaluate = function(state, memory) ... end,
/// }
/// ```
struct ScriptDefinition: Sendable, Hashable {
    var name: String
    var interval: Duration
    var dryRun: Bool
    var freshMemory: Bool
    var stagedEvaluations: Int

    static let fields: Set<String> = ["name", "interval", "dry_run", "fresh_memory", "staged", "evaluate", "description"]

    /// Reads and checks the returned table; errors name the field.
    static func read(from sandbox: LuaSandbox, result: LuaReference, defaultName: String) throws(ScriptFailure) -> ScriptDefinition {
        func fail(_ message: String, field: String? = nil) -> ScriptFailure {
            var error = ScriptFailure(message: message)
            error.field = field
            return error
        }
        let type: String
        do {
            type = try sandbox.typeName(of: result, field: "evaluate")
        } catch {
            throw fail("\(error.message)")
        }
        func field(_ name: String) throws(ScriptFailure) -> LuaValue {
            do {
                return try sandbox.field(name, of: result)
            } catch {
                throw fail("field '\(name)': \(error.message)", field: name)
            }
        }
        let resultType = (try? sandbox.typeName(of: result)) ?? "nil"
        guard resultType == "table" else {
            throw fail("the script must return a table (with name, interval and evaluate), got \(resultType)")
        }
        guard type == "function" else {
            throw fail("field 'evaluate' must be a function, got \(type)", field: "evaluate")
        }
        if let names = try? sandbox.fieldNames(of: result) {
            for field in names where !fields.contains(field) {
                throw fail("unknown field '\(field)' (expected \(fields.sorted().joined(separator: ", ")))", field: field)
            }
        }
        var name = defaultName
        switch try field("name") {
        case .nil: break
        case .string(let value) where isValidName(value): name = value
        case .string(let value):
            throw fail("field 'name': \"\(value)\" is not a script name (letters, digits, '_', '-', '.')", field: "name")
        case let other: throw fail("field 'name' must be a string, got \(other.typeName)", field: "name")
        }
        let interval: Duration
        switch try field("interval") {
        case .nil:
            throw fail("field 'interval' is required (how often evaluate runs, for example \"5s\")", field: "interval")
        case let value:
            guard let seconds = try? ScriptAPI.seconds(value) else {
                throw fail("field 'interval' must be a duration like \"5s\" or a number of seconds, got \(value)", field: "interval")
            }
            guard seconds > 0 else { throw fail("field 'interval' must be positive, got \(seconds)", field: "interval") }
            guard seconds >= InputRange.scriptInterval.lower else {
                throw fail("field 'interval' is \(seconds)s, below the minimum of 0.1s", field: "interval")
            }
            do {
                interval = try Duration(checkedSeconds: seconds, in: .scriptInterval)
            } catch {
                throw fail("field 'interval' is \(InputRange.text(seconds, .seconds)), above the maximum of 24h", field: "interval")
            }
        }
        let dryRun = try boolean(field("dry_run"), "dry_run")
        let freshMemory = try boolean(field("fresh_memory"), "fresh_memory")
        var staged = 0
        switch try field("staged") {
        case .nil: break
        case let value:
            guard let count = value.integerValue, count >= 0, count <= 1000 else {
                throw fail("field 'staged' must be a whole number of evaluations in 0...1000, got \(value)", field: "staged")
            }
            staged = Int(count)
        }
        return ScriptDefinition(name: name, interval: interval, dryRun: dryRun, freshMemory: freshMemory, stagedEvaluations: staged)
    }

    private static func boolean(_ value: LuaValue, _ name: String) throws(ScriptFailure) -> Bool {
        switch value {
        case .nil: return false
        case .boolean(let flag): return flag
        default:
            var error = ScriptFailure(message: "field '\(name)' must be true or false, got \(value.typeName)")
            error.field = name
            throw error
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
    }
}
