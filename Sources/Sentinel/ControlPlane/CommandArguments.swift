import Resilience

/// The arguments of one command: an object of named values, with typed
/// accessors whose errors name the command and the argument.
///
/// ```swift
/// let param = try arguments.string("param")        // param.set: argument 'param' is missing
/// let value = try arguments.number("value")        // param.set: argument 'value' must be a number, got string
/// ```
public struct CommandArguments: Sendable, Hashable {
    /// The command these belong to, for messages.
    public let command: String
    /// The raw values.
    public let values: [String: JSONValue]

    public init(command: String, values: [String: JSONValue]) {
        self.command = command
        self.values = values
    }

    public subscript(name: String) -> JSONValue? { values[name] }

    /// A required string.
    public func string(_ name: String) throws(CommandError) -> String {
        guard let value = values[name], value != .null else { throw missing(name) }
        guard case .string(let string) = value else { throw wrongType(name, "a string", value) }
        return string
    }

    /// An optional string.
    public func optionalString(_ name: String) throws(CommandError) -> String? {
        guard let value = values[name], value != .null else { return nil }
        return try string(name)
    }

    /// A required number. NaN and infinities are passed through for the
    /// knob's validator to reject with its own reason.
    public func number(_ name: String) throws(CommandError) -> Double {
        guard let value = values[name], value != .null else { throw missing(name) }
        guard let number = value.doubleValue else { throw wrongType(name, "a number", value) }
        return number
    }

    /// A required number within `range`.
    public func number(_ name: String, in range: InputRange) throws(CommandError) -> Double {
        let value = try number(name)
        do { return try range.check(value) } catch {
            throw CommandError(.invalidArgument, "\(command): argument '\(name)': \(error.message)")
        }
    }

    /// A required whole number within `range`.
    public func wholeNumber(_ name: String, in range: InputRange) throws(CommandError) -> Int {
        let value = try number(name)
        do { return try range.checkWhole(value) } catch {
            throw CommandError(.invalidArgument, "\(command): argument '\(name)': \(error.message)")
        }
    }

    /// A required number, or a duration written as a string (`"250ms"`, `"5s"`, `"2m"`), in seconds.
    public func numberOrDuration(_ name: String) throws(CommandError) -> Double {
        guard let value = values[name], value != .null else { throw missing(name) }
        if let number = value.doubleValue { return number }
        if case .string(let text) = value {
            do {
                return try DurationParser.seconds(from: text, knob: name)
            } catch {
                throw CommandError(
                    .invalidArgument,
                    "\(command): argument '\(name)' must be a number or a duration like \"250ms\", got \"\(text.excerpt())\"")
            }
        }
        throw wrongType(name, "a number or a duration", value)
    }

    /// An optional boolean.
    public func optionalBool(_ name: String) throws(CommandError) -> Bool? {
        guard let value = values[name], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(name, "a boolean", value) }
        return flag
    }

    /// A required object.
    public func object(_ name: String) throws(CommandError) -> [String: JSONValue] {
        guard let value = values[name], value != .null else { throw missing(name) }
        guard case .object(let object) = value else { throw wrongType(name, "an object", value) }
        return object
    }

    private func missing(_ name: String) -> CommandError {
        CommandError(.invalidArgument, "\(command): argument '\(name)' is missing")
    }

    private func wrongType(_ name: String, _ expected: String, _ value: JSONValue) -> CommandError {
        CommandError(.invalidArgument, "\(command): argument '\(name)' must be \(expected), got \(value.typeName)")
    }
}
