import Resilience
import ScriptHost

/// A fixed read-only table of nested views.
final class LuaFields: LuaTableSource {
    let fields: [String: LuaViewValue]

    init(_ fields: [String: LuaViewValue]) { self.fields = fields }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key else { return nil }
        return fields[name]
    }

    func luaKeys() -> [LuaKey] { fields.keys.sorted().map { .string($0) } }
}
