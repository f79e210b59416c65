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
    ) throws(ScriptFailure) {
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
            var line = error.line
            var message = error.message
            if line == nil, message.hasSuffix("C stack overflow") {
                // Lua's parser raises this without a position: point at the deepest nesting.
                line = Self.deepestNestingLine(in: source)
                message += " (the code nests too deeply)"
            }
            throw ScriptFailure(path: path, line: line, message: message.excerpt(ScriptEngine.maximumLoggedText), code: error.code)
        }
        do {
            definition = try ScriptDefinition.read(from: sandbox, result: script, defaultName: defaultName)
        } catch {
            let line = error.field.flatMap { Self.line(ofField: $0, in: source) }
            throw ScriptFailure(path: path, line: line, message: error.message)
        }
        api.source = "script:\(definition.name)"
    }

    /// The line where the returned table sets `field` (`interval = ...`), when
    /// exactly one line of the source does: a table field has no line of its
    /// own in Lua, and an error that names one is easier to act on.
    static func line(ofField field: String, in source: String) -> Int? {
        var found: Int?
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            guard rest.hasPrefix(field) else { continue }
            rest = rest.dropFirst(field.count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=", rest.dropFirst().first != "=" else { continue }
            if found != nil { return nil }
            found = index + 1
        }
        return found
    }

    /// The line where brackets (`(`, `[`, `{`) and blocks (`function`, `do`,
    /// `then`, `repeat` against `end` and `until`) nest deepest, skipping
    /// strings and comments well enough for the purpose: naming the line a
    /// "C stack overflow" of the parser comes from.
    static func deepestNestingLine(in source: String) -> Int? {
        var depth = 0, deepest = 0, deepestLine: Int?
        var line = 1
        let bytes = Array(source.utf8)
        var index = 0
        var word: [UInt8] = []
        func endWord() {
            defer { word.removeAll(keepingCapacity: true) }
            switch String(decoding: word, as: UTF8.self) {
            case "function", "do", "then", "repeat": depth += 1
            case "end", "until": depth -= 1
            default: return
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            let isWordByte =
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
                || (byte >= 0x30 && byte <= 0x39)
            if isWordByte { word.append(byte); index += 1; continue }
            if !word.isEmpty { endWord() }
            switch byte {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index += 1
                while index < bytes.count, bytes[index] != byte, bytes[index] != UInt8(ascii: "\n") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    index += 1
                }
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            default: break
            }
            if depth > deepest {
                deepest = depth
                deepestLine = line
            }
            index += 1
        }
        return deepestLine
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
    func evaluate(_ state: StateView, now: Double, wallTime: Double) throws(ScriptFailure) -> EvaluationRecord {
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
            // A script's error text is its own (`error(("x"):rep(1e6))`): bounded before it is logged and audited.
            throw ScriptFailure(
                path: error.chunkName ?? path, line: error.line, message: error.message.excerpt(ScriptEngine.maximumLoggedText),
                code: error.code)
        }
        return api.record.finished()
    }

    /// Evaluates once to validate, then puts `memory` and the helpers' state
    /// back as they were: a validation run must not count as an evaluation.
    func dryRun(_ state: StateView, now: Double, wallTime: Double) throws(ScriptFailure) -> EvaluationRecord {
        let holds = api.holds
        let cooldowns = api.cooldowns
        let marks = api.marks
        let saved: LuaValue
        do {
            saved = try sandbox.value(of: memory)
        } catch {
            throw ScriptFailure(path: path, message: "memory cannot be copied: \(error.message)")
        }
        defer {
            api.holds = holds
            api.cooldowns = cooldowns
            api.marks = marks
            if let restored = try? sandbox.makeReference(.value(saved)) {
                sandbox.release(memory)
                memory = restored
            }
        }
        return try evaluate(state, now: now, wallTime: wallTime)
    }

    /// Replaces `memory` with `value` (a fleet's new leader takes its last leader's).
    func replaceMemory(with value: LuaValue) throws(ScriptError) {
        let copy = try sandbox.makeReference(.value(value))
        sandbox.release(memory)
        memory = copy
    }

    /// Carries `memory` and the helpers' state over from the version this one replaces.
    /// Memory that holds values Swift cannot copy (functions, views) starts fresh;
    /// the returned message says so.
    func inherit(from previous: ScriptInstance) -> String? {
        api.holds = previous.api.holds
        api.cooldowns = previous.api.cooldowns
        api.marks = previous.api.marks
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
