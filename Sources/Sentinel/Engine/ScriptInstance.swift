import ScriptHost

/// One loaded version of one script: its own sandbox, the table it returned,
/// its `memory`, and its `sentinel` API. Lives inside the ``ScriptEngine``
/// actor, which runs on the Lua thread.
final class ScriptInstance {
    let path: String
    let source: String
    let digest: UInt64
    let definition: ScriptDefinition
    let sandbox: LuaSandbox
    let api: ScriptAPI
    private let script: LuaReference
    private(set) var memory: LuaReference

    /// Compiles `source` in a new sandbox and checks the returned table.
    /// Nothing is evaluated yet.
    init(
        path: String, source: String, digest: UInt64, limits: ScriptLimits, seed: Int64,
        readParameter: @escaping (String) -> Double?
    ) throws(ScriptLoadError) {
        self.path = path
        self.source = source
        self.digest = digest
        let defaultName = Self.defaultName(path)
        do {
            sandbox = try LuaSandbox(limits: limits, seed: seed)
            api = ScriptAPI(source: "script:\(defaultName)", readParameter: readParameter)
            try api.install(in: sandbox)
            script = try sandbox.load(source, chunkName: "@" + path)
            memory = try sandbox.makeReference(.value(.table([:])))
        } catch {
            throw ScriptLoadError(path: path, line: error.line, message: error.message, code: error.code)
        }
        do {
            definition = try ScriptDefinition.read(from: sandbox, result: script, defaultName: defaultName)
        } catch {
            throw ScriptLoadError(path: path, message: error.message)
        }
        api.source = "script:\(definition.name)"
    }

    /// `policies/retry.lua` → `retry`.
    static func defaultName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".lua") { name.removeLast(4) }
        return name
    }

    var name: String { definition.name }

    /// Runs `evaluate(state, memory)` once and returns what it issued. If
    /// `evaluate` raises, the error is thrown and none of its commands count.
    func evaluate(_ state: StateView, now: Double, wallTime: Double) throws(ScriptLoadError) -> EvaluationRecord {
        api.record = EvaluationRecord()
        api.now = now
        api.wallTime = wallTime
        api.state = state
        defer {
            api.record = EvaluationRecord()
            api.state = nil
        }
        do {
            _ = try sandbox.call(script, field: "evaluate", arguments: [.view(state), .reference(memory)])
        } catch {
            throw ScriptLoadError(path: error.chunkName ?? path, line: error.line, message: error.message, code: error.code)
        }
        return api.record
    }

    /// Evaluates once to validate, then puts `memory` and the helpers' state
    /// back as they were: a validation run must not count as an evaluation.
    func dryRun(_ state: StateView, now: Double, wallTime: Double) throws(ScriptLoadError) -> EvaluationRecord {
        let holds = api.holds
        let cooldowns = api.cooldowns
        let saved: LuaValue
        do {
            saved = try sandbox.value(of: memory)
        } catch {
            throw ScriptLoadError(path: path, message: "memory cannot be copied: \(error.message)")
        }
        defer {
            api.holds = holds
            api.cooldowns = cooldowns
            if let restored = try? sandbox.makeReference(.value(saved)) {
                sandbox.release(memory)
                memory = restored
            }
        }
        return try evaluate(state, now: now, wallTime: wallTime)
    }

    /// Carries `memory` and the helpers' state over from the version this one replaces.
    /// Memory that holds values Swift cannot copy (functions, views) starts fresh;
    /// the returned message says so.
    func inherit(from previous: ScriptInstance) -> String? {
        api.holds = previous.api.holds
        api.cooldowns = previous.api.cooldowns
        guard !definition.freshMemory else { return nil }
        do {
            let value = try previous.sandbox.value(of: previous.memory)
            let copy = try sandbox.makeReference(.value(value))
            sandbox.release(memory)
            memory = copy
            return nil
        } catch {
            return "memory could not be carried over (\(error.message)); the new version starts with an empty memory"
        }
    }
}
