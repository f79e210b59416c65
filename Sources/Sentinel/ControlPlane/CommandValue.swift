/// A JSON-like value: command arguments and results, audit `args` and
/// `evidence`, and the state file.
///
/// Numbers keep integers and floats apart; NaN and infinities are allowed
/// (the audit log writes them as the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`, so a rejected NaN is never lost).
public enum CommandValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([CommandValue])
    case object([String: CommandValue])
}

extension CommandValue {
    /// The JSON type name, for error messages: `null`, `boolean`, `number`,
    /// `string`, `array`, `object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    public var objectValue: [String: CommandValue]? {
        if case .object(let value) = self { value } else { nil }
    }

    public var arrayValue: [CommandValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    /// The field of an object, `.null` when absent or not an object.
    public subscript(field: String) -> CommandValue {
        objectValue?[field] ?? .null
    }
}

extension CommandValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: CommandValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, CommandValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
