/// A Lua value copied out of (or into) a sandboxed state.
///
/// Tables are copied as dictionaries keyed by ``LuaKey``. Lua normalizes
/// float keys with an integral value to integers, and so does ``LuaKey``.
/// Lua strings are bytes; strings that are not valid UTF-8 are carried as
/// ``bytes(_:)`` so that nothing is lost on the way through Swift.
///
/// ```swift
/// let arguments: LuaValue = ["pipeline": "checkout", "calls": 120]
/// ```
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    /// A Lua string whose bytes are not valid UTF-8.
    case bytes([UInt8])
    case table([LuaKey: LuaValue])
}

/// A key of a Lua table that Swift can hold.
public enum LuaKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    case integer(Int64)
    case number(Double)
    case string(String)
    case boolean(Bool)

    /// A number key, normalized the way Lua normalizes it: `2.0` is the integer `2`.
    /// Returns nil for NaN, which Lua refuses as a key.
    public init?(number: Double) {
        if number.isNaN { return nil }
        if let integer = Int64(exactly: number) {
            self = .integer(integer)
        } else {
            self = .number(number)
        }
    }

    /// Sorted the way `pairs` iterates: numbers ascending, then strings
    /// bytewise, then `false`, `true`.
    public static func < (lhs: LuaKey, rhs: LuaKey) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a < b
        case (.integer(let a), .number(let b)): return Double(a) < b
        case (.number(let a), .integer(let b)): return a < Double(b)
        case (.number(let a), .number(let b)): return a < b
        case (.string(let a), .string(let b)): return Array(a.utf8).lexicographicallyPrecedes(b.utf8)
        case (.boolean(let a), .boolean(let b)): return !a && b
        default: return lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .integer, .number: 0
        case .string: 1
        case .boolean: 2
        }
    }

    public var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value
        case .boolean(let value): "\(value)"
        }
    }

    /// The key as a value.
    public var value: LuaValue {
        switch self {
        case .integer(let value): .integer(value)
        case .number(let value): .number(value)
        case .string(let value): .string(value)
        case .boolean(let value): .boolean(value)
        }
    }
}

// MARK: - Reading

extension LuaValue {
    /// The Lua type name: `nil`, `boolean`, `number`, `string` or `table`.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string, .bytes: "string"
        case .table: "table"
        }
    }

    public var isNil: Bool { if case .nil = self { true } else { false } }

    /// The number, for integers and floats alike.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// The integer, also for floats with an integral value (as Lua's `math.tointeger`).
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value): Int64(exactly: value)
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case .boolean(let value) = self { value } else { nil }
    }

    public var tableValue: [LuaKey: LuaValue]? {
        if case .table(let value) = self { value } else { nil }
    }

    /// The value of a string field of a table, `.nil` when absent or not a table.
    public subscript(field: String) -> LuaValue {
        tableValue?[.string(field)] ?? .nil
    }

    /// The value at a 1-based array index of a table, `.nil` when absent.
    public subscript(index: Int) -> LuaValue {
        tableValue?[.integer(Int64(index))] ?? .nil
    }

    /// The array part of a table: values at keys 1, 2, ... up to the first nil.
    public var arrayValue: [LuaValue]? {
        guard let table = tableValue else { return nil }
        var result: [LuaValue] = []
        var index: Int64 = 1
        while let element = table[.integer(index)] {
            result.append(element)
            index += 1
        }
        return result
    }
}

// MARK: - Literals

extension LuaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    /// A Lua sequence: keys 1...n. `nil` elements leave holes.
    public init(arrayLiteral elements: LuaValue...) {
        var table: [LuaKey: LuaValue] = [:]
        for (offset, element) in elements.enumerated() where !element.isNil {
            table[.integer(Int64(offset + 1))] = element
        }
        self = .table(table)
    }

    public init(dictionaryLiteral elements: (String, LuaValue)...) {
        var table: [LuaKey: LuaValue] = [:]
        for (key, value) in elements where !value.isNil {
            table[.string(key)] = value
        }
        self = .table(table)
    }
}

extension LuaKey: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension LuaValue: CustomStringConvertible {
    /// A Lua-like rendering with sorted keys, for logs and error messages.
    public var description: String {
        switch self {
        case .nil: return "nil"
        case .boolean(let value): return "\(value)"
        case .integer(let value): return "\(value)"
        case .number(let value):
            if value.isNaN { return "nan" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            return "\(value)"
        case .string(let value): return "\"\(value)\""
        case .bytes(let value): return "<\(value.count) bytes>"
        case .table(let table):
            let fields = table.keys.sorted().map { key -> String in
                let value = table[key]!.description
                if case .string(let name) = key { return "\(name) = \(value)" }
                return "[\(key)] = \(value)"
            }
            return "{ " + fields.joined(separator: ", ") + " }"
        }
    }
}
