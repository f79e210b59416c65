import Resilience

/// The arguments of the commands that name a knob: `param`, and for those
/// that set one, `value` as given. ``prepare(in:)`` looks the knob up once.
struct KnobArguments: Sendable {
    let command: String
    let param: String
    /// The value as given: a number, or a duration string with its seconds.
    let given: Given?
    /// The knob as it stood when the command was prepared.
    private(set) var info: ParameterInfo?
    /// The number to store, checked against the knob's kind and bounds.
    private(set) var value: Double?

    enum Given: Sendable {
        case number(Double)
        case duration(text: String, seconds: Double)
    }

    /// Reads `param` and, when `needsValue`, `value`.
    init(_ arguments: CommandArguments, needsValue: Bool) throws(CommandError) {
        command = arguments.command
        param = try arguments.string("param")
        guard needsValue else {
            given = nil
            return
        }
        let seconds = try arguments.numberOrDuration("value")
        if case .string(let text) = arguments["value"] {
            given = .duration(text: text, seconds: seconds)
        } else {
            given = .number(seconds)
        }
    }

    /// Looks the knob up and checks the value against it, once.
    func prepared(in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        var prepared = self
        do { prepared.info = try plane.registry.parameter(param) } catch { throw CommandError.from(error) }
        guard let given, let info = prepared.info else { return prepared }
        let number: Double
        switch given {
        case .number(let value): number = value
        case .duration(_, let seconds):
            guard info.descriptor.kind == .duration else {
                throw CommandError(.invalidArgument, "\(command): \(info.name) is not a duration; give 'value' as a number")
            }
            number = seconds
        }
        do { prepared.value = try info.descriptor.validate(number) } catch { throw CommandError.from(error) }
        return prepared
    }

    /// The knob as prepared (prepare runs before apply).
    func knob() throws(CommandError) -> ParameterInfo {
        guard let info else { throw CommandError(.failed, "\(command): \(param) was not prepared") }
        return info
    }
}

/// `param.get { param }`: a knob's value, shadow and bounds.
struct ParamGetCommand: Command {
    let name = "param.get"
    var isQuery: Bool { true }

    func decode(_ arguments: CommandArguments) throws(CommandError) -> KnobArguments {
        try KnobArguments(arguments, needsValue: false)
    }

    func target(_ arguments: KnobArguments) -> String? { arguments.param }

    func prepare(_ arguments: KnobArguments, in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        try arguments.prepared(in: plane)
    }

    func apply(_ arguments: KnobArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        try arguments.knob().jsonValue
    }
}

/// `param.set { param, value }`: a knob's live value. Durations may be strings (`"250ms"`).
struct ParamSetCommand: Command {
    let name = "param.set"
    var changesParameter: Bool { true }

    func decode(_ arguments: CommandArguments) throws(CommandError) -> KnobArguments {
        try KnobArguments(arguments, needsValue: true)
    }

    func target(_ arguments: KnobArguments) -> String? { arguments.param }

    func prepare(_ arguments: KnobArguments, in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        try arguments.prepared(in: plane)
    }

    func proposedValue(_ arguments: KnobArguments, in plane: ControlPlane) -> Double? { arguments.value }

    func apply(_ arguments: KnobArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        guard let value = arguments.value else { throw CommandError(.failed, "param.set: \(arguments.param) was not prepared") }
        do {
            try plane.writer.apply(.set(arguments.param, value))
        } catch {
            throw CommandError.from(error)
        }
        return ["param": .string(arguments.param), "value": .double(value)]
    }
}

/// `shadow.set { param, value }`: a knob's shadow value, evaluated beside the live one.
struct ShadowSetCommand: Command {
    let name = "shadow.set"

    func decode(_ arguments: CommandArguments) throws(CommandError) -> KnobArguments {
        try KnobArguments(arguments, needsValue: true)
    }

    func target(_ arguments: KnobArguments) -> String? { arguments.param }

    func prepare(_ arguments: KnobArguments, in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        let prepared = try arguments.prepared(in: plane)
        let info = try prepared.knob()
        guard info.descriptor.shadowable else {
            throw CommandError(.invalidValue, "\(info.name) cannot be shadowed")
        }
        return prepared
    }

    func apply(_ arguments: KnobArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        guard let value = arguments.value else { throw CommandError(.failed, "shadow.set: \(arguments.param) was not prepared") }
        do {
            try plane.writer.apply(.setShadow(arguments.param, value))
        } catch {
            throw CommandError.from(error)
        }
        var info = try arguments.knob()
        info.shadow = value
        return info.jsonValue
    }
}

/// `shadow.clear { param }`: drops a knob's shadow value.
struct ShadowClearCommand: Command {
    let name = "shadow.clear"

    func decode(_ arguments: CommandArguments) throws(CommandError) -> KnobArguments {
        try KnobArguments(arguments, needsValue: false)
    }

    func target(_ arguments: KnobArguments) -> String? { arguments.param }

    func prepare(_ arguments: KnobArguments, in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        try arguments.prepared(in: plane)
    }

    func apply(_ arguments: KnobArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        do {
            try plane.writer.apply(.clearShadow(arguments.param))
        } catch {
            throw CommandError.from(error)
        }
        var info = try arguments.knob()
        info.shadow = nil
        return info.jsonValue
    }
}

/// `shadow.promote { param }`: makes a knob's shadow value live (guards apply to the new live value).
struct ShadowPromoteCommand: Command {
    let name = "shadow.promote"
    var changesParameter: Bool { true }

    func decode(_ arguments: CommandArguments) throws(CommandError) -> KnobArguments {
        try KnobArguments(arguments, needsValue: false)
    }

    func target(_ arguments: KnobArguments) -> String? { arguments.param }

    func prepare(_ arguments: KnobArguments, in plane: ControlPlane) throws(CommandError) -> KnobArguments {
        let prepared = try arguments.prepared(in: plane)
        let info = try prepared.knob()
        guard info.shadow != nil else {
            throw CommandError(.invalidValue, "\(info.name) has no shadow value to promote")
        }
        return prepared
    }

    func proposedValue(_ arguments: KnobArguments, in plane: ControlPlane) -> Double? { arguments.info?.shadow }

    func apply(_ arguments: KnobArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        do {
            try plane.writer.apply(.promote(arguments.param))
        } catch {
            throw CommandError.from(error)
        }
        do { return try plane.registry.parameter(arguments.param).jsonValue } catch { throw CommandError.from(error) }
    }
}

/// `params.list {}`: every knob with its value, shadow and bounds.
struct ParamsListCommand: Command {
    let name = "params.list"
    var isQuery: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        .array(plane.registry.parameters().map(\.jsonValue))
    }
}

extension ParameterInfo {
    /// `{ name, value, shadow, min, max, kind, unit, default, description }`.
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "value": .double(value), "min": .double(minimum), "max": .double(maximum),
            "kind": .string(descriptor.kind.rawValue), "unit": .string(descriptor.unit),
            "default": .double(descriptor.defaultValue), "description": .string(descriptor.description),
        ]
        if let shadow { object["shadow"] = .double(shadow) }
        return .object(object)
    }
}
