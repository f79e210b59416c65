import Resilience
import ScriptHost

/// The `sentinel` table of one script's sandbox.
///
/// Mistakes visible at the call (wrong argument types, NaN or infinite
/// numbers, a malformed parameter name) raise a Lua error at once; whether a
/// parameter exists and a value is within bounds is decided when the queued
/// command is applied, and audited. Commands are queued in ``record`` during
/// `evaluate`.
final class ScriptAPI {
    /// What the current evaluation issued so far.
    var record = EvaluationRecord()
    /// The time `sentinel.now()` and `state.now` report, in seconds.
    var now: Double = 0
    /// The audit clock, for alert times.
    var wallTime: Double = 0
    /// The script's audit identity.
    var source: String
    /// Reads an applied value (nil when the knob does not exist).
    let readParameter: (String) -> Double?
    /// Counters of `sentinel.held`, by key; survive ticks and reloads.
    var holds: [String: Int] = [:]
    /// `sentinel.mark`'s marks, by pipeline and name; survive ticks and reloads.
    var marks: [String: PipelineMark] = [:]
    /// Last time `sentinel.cooldown` returned true, by key.
    var cooldowns: [String: Double] = [:]
    /// The state the current evaluation reads (`sentinel.compare` judges its windows).
    var state: StateView?
    /// Reads a gate (nil when no gate has that name); nil when the engine
    /// has no approval gates.
    var readGate: ((String) -> ApprovalGate?)?

    init(source: String, readParameter: @escaping (String) -> Double?) {
        self.source = source
        self.readParameter = readParameter
    }

    /// Installs `sentinel.*` in `sandbox`.
    func install(in sandbox: LuaSandbox) throws(ScriptError) {
        try installApprovals(in: sandbox)
        try sandbox.register("set", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...3)
            let parameter = try Self.parameterName(arguments, 1)
            let value = try Self.knobValue(arguments, 2)
            try self.queue("param.set", ["param": .string(parameter), "value": value], why: arguments, 3)
            return []
        }
        try sandbox.register("shadow", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...3)
            let parameter = try Self.parameterName(arguments, 1)
            let value = try Self.knobValue(arguments, 2)
            try self.queue("shadow.set", ["param": .string(parameter), "value": value], why: arguments, 3)
            return []
        }
        try sandbox.register("clear_shadow", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...2)
            let parameter = try Self.parameterName(arguments, 1)
            try self.queue("shadow.clear", ["param": .string(parameter)], why: arguments, 2)
            return []
        }
        try sandbox.register("promote", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...2)
            let parameter = try Self.parameterName(arguments, 1)
            try self.queue("shadow.promote", ["param": .string(parameter)], why: arguments, 2)
            return []
        }
        try sandbox.register("get", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...1)
            let parameter = try Self.parameterName(arguments, 1)
            return [self.readParameter(parameter).map(LuaValue.number) ?? .nil]
        }
        try sandbox.register("trial", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...2)
            let spec = try arguments.table(1)
            guard case .string(let name)? = spec["name"], !name.isEmpty else {
                throw arguments.bad(1, "the trial needs a 'name' (a string)")
            }
            guard case .table(let params)? = spec["params"], !params.isEmpty else {
                throw arguments.bad(1, "the trial needs 'params', a table of parameter = candidate value")
            }
            for (key, value) in params {
                guard case .string(let parameter) = key, ParameterRegistry.isWellFormed(parameter) else {
                    throw arguments.bad(
                        1, "params: '\(key.description.excerpt())' is not a parameter name (expected <pipeline>.<policy>.<knob>)")
                }
                if let number = value.doubleValue, !number.isFinite {
                    throw arguments.bad(1, "params.\(parameter): \(number) is not a finite number")
                }
            }
            var command = JSONValue(LuaValue.table(spec)).objectValue ?? [:]
            command["name"] = .string(name)
            try self.queue("trial.start", command, why: arguments, 2)
            return []
        }
        try installCompare(in: sandbox)
        try installMarks(in: sandbox)
        try installDecisions(in: sandbox)
        try sandbox.register("command", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...3)
            let name = try arguments.string(1)
            guard Self.isCommandName(name) else {
                throw arguments.bad(1, "'\(name.excerpt())' is not a command name (dotted words, like \"breaker.reset\")")
            }
            var commandArguments: [String: JSONValue] = [:]
            if !arguments.isNil(2) {
                let table = try arguments.table(2)
                for (key, value) in table {
                    guard case .string(let field) = key else {
                        throw arguments.bad(2, "argument names must be strings, got \(key)")
                    }
                    if let number = value.doubleValue, !number.isFinite {
                        throw arguments.bad(2, "\(field): \(number) is not a finite number")
                    }
                    commandArguments[field] = JSONValue(value)
                }
            }
            try self.queue(name, commandArguments, why: arguments, 3)
            return []
        }
        try sandbox.register("alert", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...3)
            let severityName = try arguments.string(1)
            guard let severity = Alert.Severity(rawValue: severityName) else {
                throw arguments.bad(1, "severity must be \"info\", \"warning\" or \"critical\", got \"\(severityName)\"")
            }
            let message = try arguments.string(2)
            var fields: [String: JSONValue] = [:]
            if !arguments.isNil(3) {
                fields = JSONValue(.table(try arguments.table(3))).objectValue ?? [:]
            }
            self.record.alerts.append(
                Alert(time: self.wallTime, source: self.source, severity: severity, message: message, fields: fields))
            return []
        }
        try sandbox.register("log", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...2)
            let levelName = try arguments.string(1)
            guard let level = ScriptLogLine.Level(rawValue: levelName) else {
                throw arguments.bad(1, "level must be \"debug\", \"info\", \"warning\" or \"error\", got \"\(levelName)\"")
            }
            let message = try arguments.value(2)
            // A script's own text: bounded here, so one call cannot put a megabyte line in the log or the output.
            let text = (message.stringValue ?? message.description).excerpt(ScriptEngine.maximumLoggedText)
            self.record.append(ScriptLogLine(level: level, message: text))
            return []
        }
        try sandbox.register("now", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(0...0)
            return [.number(self.now)]
        }
        // Seconds since the Unix epoch, the same on every instance of a fleet (the scenario's virtual epoch in
        // `simulate`): for times a rule keeps in `memory` that must survive a failover, where `state.now` would not.
        try sandbox.register("time", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(0...0)
            return [.number(self.wallTime)]
        }
        try sandbox.register("duration", in: "sentinel") { arguments in
            try arguments.expectCount(1...1)
            do {
                return [.number(try Self.seconds(try arguments.value(1)))]
            } catch let error as LuaArgumentError {
                throw error
            } catch {
                throw arguments.bad(1, "\(error)")
            }
        }
        try sandbox.register("held", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(3...3)
            let key = try arguments.string(1)
            let condition = try arguments.value(2)
            let needed = try arguments.integer(3)
            guard needed >= 1 else { throw arguments.bad(3, "the count must be at least 1") }
            let holds: Bool
            switch condition {
            case .nil, .boolean(false): holds = false
            default: holds = true
            }
            let count = holds ? (self.holds[key] ?? 0) + 1 : 0
            self.holds[key] = count
            return [.boolean(count >= needed)]
        }
        try sandbox.register("cooldown", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(2...2)
            let key = try arguments.string(1)
            let period: Double
            do {
                period = try Self.seconds(try arguments.value(2))
            } catch {
                throw arguments.bad(2, "\(error)")
            }
            if let last = self.cooldowns[key], self.now - last < period { return [false] }
            self.cooldowns[key] = self.now
            return [true]
        }
    }

    // MARK: - Argument checks

    private func queue(
        _ name: String, _ arguments: [String: JSONValue], why luaArguments: LuaArguments, _ index: Int
    ) throws(LuaArgumentError) {
        let (reason, evidence) = try Self.why(luaArguments, index)
        record.commands.append(QueuedCommand(name: name, arguments: arguments, reason: reason, evidence: evidence))
    }

    /// `why` is a string or `{ reason = "...", evidence = { ... } }`.
    static func why(_ arguments: LuaArguments, _ index: Int) throws(LuaArgumentError) -> (String?, JSONValue?) {
        switch try arguments.value(index) {
        case .nil: return (nil, nil)
        case .string(let reason): return (reason, nil)
        case .table(let table):
            var reason: String?
            switch table["reason"] {
            case nil, .nil?: reason = nil
            case .string(let text)?: reason = text
            case let other?: throw arguments.bad(index, "reason must be a string, got \(other.typeName)")
            }
            let evidence = table["evidence"].map(JSONValue.init)
            for key in table.keys where key != "reason" && key != "evidence" {
                throw arguments.bad(index, "unknown field '\(key)' in why (expected reason and evidence)")
            }
            return (reason, evidence)
        case let other:
            throw arguments.bad(index, "why must be a string or a table { reason = ..., evidence = ... }, got \(other.typeName)")
        }
    }

    static func parameterName(_ arguments: LuaArguments, _ index: Int) throws(LuaArgumentError) -> String {
        let name = try arguments.string(index)
        guard ParameterRegistry.isWellFormed(name) else {
            throw arguments.bad(index, "'\(name.excerpt())' is not a parameter name (expected <pipeline>.<policy>.<knob>)")
        }
        return name
    }

    /// A finite number, or a duration string (kept as text for the knob to check).
    static func knobValue(_ arguments: LuaArguments, _ index: Int) throws(LuaArgumentError) -> JSONValue {
        switch try arguments.value(index) {
        case .integer(let integer): return .int(integer)
        case .number(let number):
            guard number.isFinite else { throw arguments.bad(index, "\(number) is not a finite number") }
            return .double(number)
        case .string(let text):
            do {
                _ = try DurationParser.seconds(from: text)
            } catch {
                throw arguments.bad(index, "expected a number or a duration like \"250ms\", got \"\(text.excerpt())\"")
            }
            return .string(text)
        case let other:
            throw arguments.bad(index, "number expected, got \(other.typeName)")
        }
    }

    static func isCommandName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return name.utf8.count <= 128 && parts.count >= 2
            && parts.allSatisfy { part in
                !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            }
    }

    /// Seconds from a number or a duration string.
    static func seconds(_ value: LuaValue) throws -> Double {
        switch value {
        case .integer(let integer): return Double(integer)
        case .number(let number) where number.isFinite: return number
        case .string(let text): return try DurationParser.seconds(from: text)
        default: throw ScriptFailure(message: "expected a duration like \"5s\" or a number of seconds, got \(value)")
        }
    }
}
