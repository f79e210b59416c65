import ScriptHost

extension LuaValue {
    /// A command value as Lua: objects become tables with string keys, arrays sequences.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .nil
        case .bool(let flag): self = .boolean(flag)
        case .int(let integer): self = .integer(integer)
        case .double(let number): self = .number(number)
        case .string(let string): self = .string(string)
        case .array(let elements):
            var table: [LuaKey: LuaValue] = [:]
            for (offset, element) in elements.enumerated() { table[.integer(Int64(offset + 1))] = LuaValue(element) }
            self = .table(table)
        case .object(let object):
            var table: [LuaKey: LuaValue] = [:]
            for (key, element) in object { table[.string(key)] = LuaValue(element) }
            self = .table(table)
        }
    }

    init(_ object: [String: JSONValue]) {
        self.init(JSONValue.object(object))
    }
}

extension JSONValue {
    /// A Lua value as a command value: a table whose keys are 1...n becomes an
    /// array, any other table an object (non-string keys written as strings).
    init(_ value: LuaValue) {
        switch value {
        case .nil: self = .null
        case .boolean(let flag): self = .bool(flag)
        case .integer(let integer): self = .int(integer)
        case .number(let number): self = .double(number)
        case .string(let string): self = .string(string)
        case .bytes(let bytes): self = .string(String(decoding: bytes, as: UTF8.self))
        case .table(let table):
            if !table.isEmpty, let array = value.arrayValue, array.count == table.count {
                self = .array(array.map(JSONValue.init))
            } else {
                var object: [String: JSONValue] = [:]
                for (key, element) in table { object[key.description] = JSONValue(element) }
                self = .object(object)
            }
        }
    }
}
