import CLua

/// The arguments of a call from Lua into a Swift function registered with
/// ``LuaSandbox/register(_:in:_:)``.
///
/// Valid only during that call: do not keep it. Each accessor checks the argument's type and
/// throws a ``LuaArgumentError`` that names the function and the argument,
/// which the script sees as a Lua error:
/// `bad argument #2 to 'sentinel.set' (number expected, got string)`.
public struct LuaArguments {
    let state: OpaquePointer
    /// The number of arguments the script passed.
    public let count: Int
    /// The name the function was registered under, for messages.
    public let functionName: String

    init(state: OpaquePointer, count: Int, functionName: String) {
        self.state = state
        self.count = count
        self.functionName = functionName
    }

    /// Fails unless the script passed a number of arguments within `range`.
    public func expectCount(_ range: ClosedRange<Int>) throws(LuaArgumentError) {
        guard range.contains(count) else {
            let expected =
                range.lowerBound == range.upperBound
                ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw LuaArgumentError("wrong number of arguments to '\(functionName)' (expected \(expected), got \(count))")
        }
    }

    /// The Lua type name of argument `index` (1-based): `no value` when absent.
    public func typeName(_ index: Int) -> String {
        guard index >= 1, index <= count else { return "no value" }
        return StackReader.typeName(state, Int32(index))
    }

    /// Argument `index` converted to a ``LuaValue`` (`.nil` when absent).
    public func value(_ index: Int) throws(LuaArgumentError) -> LuaValue {
        guard index >= 1, index <= count else { return .nil }
        do {
            return try StackReader.value(state, Int32(index))
        } catch {
            throw bad(index, error.message)
        }
    }

    /// A string argument.
    public func string(_ index: Int) throws(LuaArgumentError) -> String {
        switch try value(index) {
        case .string(let string): return string
        case .bytes: throw bad(index, "string is not valid UTF-8")
        default: throw expected("string", index)
        }
    }

    /// A number argument (integer or float). NaN and infinities are passed
    /// through; reject them where they make no sense.
    public func number(_ index: Int) throws(LuaArgumentError) -> Double {
        guard let number = try value(index).doubleValue else { throw expected("number", index) }
        return number
    }

    /// An integer argument; floats with an integral value are accepted.
    public func integer(_ index: Int) throws(LuaArgumentError) -> Int64 {
        let value = try value(index)
        guard let integer = value.integerValue else {
            if case .number = value { throw bad(index, "number has no integer representation") }
            throw expected("integer", index)
        }
        return integer
    }

    /// A boolean argument.
    public func boolean(_ index: Int) throws(LuaArgumentError) -> Bool {
        guard let boolean = try value(index).boolValue else { throw expected("boolean", index) }
        return boolean
    }

    /// A table argument, copied.
    public func table(_ index: Int) throws(LuaArgumentError) -> [LuaKey: LuaValue] {
        guard let table = try value(index).tableValue else { throw expected("table", index) }
        return table
    }

    /// True when argument `index` is absent or nil.
    public func isNil(_ index: Int) -> Bool {
        guard index >= 1, index <= count else { return true }
        return lua_type(state, Int32(index)) == CLUA_TNIL
    }

    /// An error naming argument `index` with `message`.
    public func bad(_ index: Int, _ message: String) -> LuaArgumentError {
        LuaArgumentError("bad argument #\(index) to '\(functionName)' (\(message))")
    }

    private func expected(_ type: String, _ index: Int) -> LuaArgumentError {
        bad(index, "\(type) expected, got \(typeName(index))")
    }
}

/// A wrong argument to a Swift function; the script sees its message as a
/// Lua error at the line of the call.
public struct LuaArgumentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
