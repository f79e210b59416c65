import Resilience

/// `param.get { param }`: a knob's value, shadow and bounds.
struct ParamGetCommand: Command {
    let name = "param.get"
    var isQuery: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("param")
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        _ = try parameterInfo(arguments, plane)
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        try parameterInfo(arguments, plane).commandValue
    }
}

/// `param.set { param, value }`: a knob's live value. Durations may be strings (`"250ms"`).
struct ParamSetCommand: Command {
    let name = "param.set"
    var changesParameter: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("param")
    }

    func proposedValue(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) -> Double? {
        try arguments.numberOrDuration("value")
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        try validateValue(arguments, plane)
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        let parameter = try arguments.string("param")
        let value = try arguments.numberOrDuration("value")
        do {
            try plane.writer.apply([.set(parameter, value)])
            return ["param": .string(parameter), "value": .double(try plane.registry.value(parameter))]
        } catch {
            throw CommandError.from(error)
        }
    }
}

/// `shadow.set { param, value }`: a knob's shadow value, evaluated beside the live one.
struct ShadowSetCommand: Command {
    let name = "shadow.set"

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("param")
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        try validateValue(arguments, plane)
        let info = try parameterInfo(arguments, plane)
        guard info.descriptor.shadowable else {
            throw CommandError(.invalidValue, "\(info.name) cannot be shadowed")
        }
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        let parameter = try arguments.string("param")
        let value = try arguments.numberOrDuration("value")
        do {
            try plane.writer.apply([.setShadow(parameter, value)])
        } catch {
            throw CommandError.from(error)
        }
        return try parameterInfo(arguments, plane).commandValue
    }
}

/// `shadow.clear { param }`: drops a knob's shadow value.
struct ShadowClearCommand: Command {
    let name = "shadow.clear"

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("param")
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        _ = try parameterInfo(arguments, plane)
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        let parameter = try arguments.string("param")
        do {
            try plane.writer.apply([.clearShadow(parameter)])
        } catch {
            throw CommandError.from(error)
        }
        return try parameterInfo(arguments, plane).commandValue
    }
}

/// `shadow.promote { param }`: makes a knob's shadow value live (guards apply to the new live value).
struct ShadowPromoteCommand: Command {
    let name = "shadow.promote"
    var changesParameter: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? {
        try arguments.string("param")
    }

    func proposedValue(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) -> Double? {
        try parameterInfo(arguments, plane).shadow
    }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        let info = try parameterInfo(arguments, plane)
        guard info.shadow != nil else {
            throw CommandError(.invalidValue, "\(info.name) has no shadow value to promote")
        }
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        let parameter = try arguments.string("param")
        do {
            try plane.writer.apply([.promote(parameter)])
        } catch {
            throw CommandError.from(error)
        }
        return try parameterInfo(arguments, plane).commandValue
    }
}

/// `params.list {}`: every knob with its value, shadow and bounds.
struct ParamsListCommand: Command {
    let name = "params.list"
    var isQuery: Bool { true }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { nil }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> CommandValue {
        .array(plane.registry.parameters().map(\.commandValue))
    }
}

func parameterInfo(_ arguments: CommandArguments, _ plane: ControlPlane) throws(CommandError) -> ParameterInfo {
    let parameter = try arguments.string("param")
    do {
        return try plane.registry.parameter(parameter)
    } catch {
        throw CommandError.from(error)
    }
}

/// Checks `value` against the knob's kind and bounds, so a bad value is
/// rejected before anything is applied.
func validateValue(_ arguments: CommandArguments, _ plane: ControlPlane) throws(CommandError) {
    let info = try parameterInfo(arguments, plane)
    let value = try arguments.numberOrDuration("value")
    if case .string = arguments["value"], info.descriptor.kind != .duration {
        throw CommandError(
            .invalidArgument, "\(arguments.command): \(info.name) is not a duration; give 'value' as a number")
    }
    do {
        _ = try info.descriptor.validate(value)
    } catch {
        throw CommandError.from(error)
    }
}

extension ParameterInfo {
    /// `{ name, value, shadow, min, max, kind, unit, default, description }`.
    var commandValue: CommandValue {
        var object: [String: CommandValue] = [
            "name": .string(name), "value": .double(value), "min": .double(minimum), "max": .double(maximum),
            "kind": .string(descriptor.kind.rawValue), "unit": .string(descriptor.unit),
            "default": .double(descriptor.defaultValue), "description": .string(descriptor.description),
        ]
        if let shadow { object["shadow"] = .double(shadow) }
        return .object(object)
    }
}
