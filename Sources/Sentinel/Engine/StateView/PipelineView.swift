import Resilience
import ScriptHost

/// One pipeline: `windows`, `shadow.windows`, `variants`, `breaker`, `bulkhead`.
final class PipelineView: LuaTableSource {
    let pipeline: PipelineState

    init(_ pipeline: PipelineState) { self.pipeline = pipeline }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        switch key {
        case "windows": return .table(WindowsView { self.pipeline.window($0) })
        case "shadow": return .table(LuaFields(["windows": .table(WindowsView { self.pipeline.shadowWindow($0) })]))
        case "variants":
            var variants: [String: LuaViewValue] = [:]
            for name in pipeline.variantNames {
                variants[name] = .table(
                    LuaFields([
                        "windows": .table(WindowsView { self.pipeline.variantWindow(name, $0) ?? .zero })
                    ]))
            }
            return .table(LuaFields(variants))
        case "breaker":
            guard let breaker = pipeline.breaker else { return nil }
            var fields: [LuaKey: LuaValue] = ["state": .string(breaker.state.rawValue)]
            if let shadow = breaker.shadowState { fields["shadow_state"] = .string(shadow.rawValue) }
            return .table(LuaValueTable(fields))
        case "bulkhead":
            guard let bulkhead = pipeline.bulkhead else { return nil }
            return .table(
                LuaValueTable([
                    "in_use": .integer(Int64(bulkhead.inUse)), "queued": .integer(Int64(bulkhead.queued)),
                    "capacity": .integer(Int64(bulkhead.capacity)),
                ]))
        case "name":
            return .value(.string(pipeline.name))
        default:
            return nil
        }
    }

    func luaKeys() -> [LuaKey] {
        var keys: [LuaKey] = ["name", "shadow", "windows"]
        if pipeline.breaker != nil { keys.append("breaker") }
        if pipeline.bulkhead != nil { keys.append("bulkhead") }
        if !pipeline.variantNames.isEmpty { keys.append("variants") }
        return keys.sorted()
    }
}
