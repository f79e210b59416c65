import CLua

/// Reads Lua values from a stack into Swift with API calls that never raise
/// or allocate: raw access only, `lua_tolstring` only on strings.
enum StackReader {
    /// Tables nested deeper than this are refused (this also stops cycles).
    static let maximumDepth = 100

    struct Failure: Error {
        var path: [String]
        var message: String

        func rendered(root: String) -> String {
            var text = root
            for component in path.reversed() {
                text += component.hasPrefix("[") ? component : "." + component
            }
            return "\(text): \(message)"
        }
    }

    static func typeName(_ state: OpaquePointer, _ index: Int32) -> String {
        String(cString: lua_typename(state, lua_type(state, index)))
    }

    /// The value at `index`; failures carry the path inside the value.
    static func value(_ state: OpaquePointer, _ index: Int32) throws(Failure) -> LuaValue {
        try read(state, lua_absindex(state, index), depth: 0)
    }

    private static func read(_ state: OpaquePointer, _ index: Int32, depth: Int) throws(Failure) -> LuaValue {
        switch lua_type(state, index) {
        case CLUA_TNIL, CLUA_TNONE:
            return .nil
        case CLUA_TBOOLEAN:
            return .boolean(lua_toboolean(state, index) != 0)
        case CLUA_TNUMBER:
            if lua_isinteger(state, index) != 0 {
                return .integer(Int64(lua_tointegerx(state, index, nil)))
            }
            return .number(lua_tonumberx(state, index, nil))
        case CLUA_TSTRING:
            return string(state, index)
        case CLUA_TTABLE:
            return .table(try table(state, index, depth: depth))
        case CLUA_TUSERDATA:
            // The only userdata a sandboxed script can hold are read-only views.
            throw Failure(path: [], message: "a read-only table cannot be converted; copy the fields you need")
        default:
            throw Failure(path: [], message: "cannot convert a \(typeName(state, index)) value")
        }
    }

    static func string(_ state: OpaquePointer, _ index: Int32) -> LuaValue {
        var length = 0
        guard let pointer = lua_tolstring(state, index, &length) else { return .nil }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length).bindMemory(to: UInt8.self)
        if let string = String(validating: bytes, as: UTF8.self) {
            return .string(string)
        }
        return .bytes(Array(bytes))
    }

    private static func table(_ state: OpaquePointer, _ index: Int32, depth: Int) throws(Failure) -> [LuaKey: LuaValue] {
        guard depth < maximumDepth else {
            throw Failure(path: [], message: "tables nested more than \(maximumDepth) deep (or cyclic)")
        }
        guard lua_checkstack(state, 3) != 0 else {
            throw Failure(path: [], message: "out of stack space")
        }
        var result: [LuaKey: LuaValue] = [:]
        let top = lua_gettop(state)
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            let key: LuaKey
            switch lua_type(state, -2) {
            case CLUA_TNUMBER:
                if lua_isinteger(state, -2) != 0 {
                    key = .integer(Int64(lua_tointegerx(state, -2, nil)))
                } else {
                    key = .number(lua_tonumberx(state, -2, nil))
                }
            case CLUA_TSTRING:
                guard case .string(let name) = string(state, -2) else {
                    lua_settop(state, top)
                    throw Failure(path: [], message: "a table key is not valid UTF-8")
                }
                key = .string(name)
            case CLUA_TBOOLEAN:
                key = .boolean(lua_toboolean(state, -2) != 0)
            default:
                let name = typeName(state, -2)
                lua_settop(state, top)
                throw Failure(path: [], message: "a table key of type \(name) cannot be converted")
            }
            do {
                result[key] = try read(state, lua_gettop(state), depth: depth + 1)
            } catch {
                lua_settop(state, top)
                var failure = error
                switch key {
                case .string(let name): failure.path.append(name)
                default: failure.path.append("[\(key)]")
                }
                throw failure
            }
            lua_settop(state, -2)
        }
        return result
    }
}
