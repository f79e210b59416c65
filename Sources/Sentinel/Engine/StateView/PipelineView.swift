import Resilience
import ScriptHost

/// One pipeline: `windows`, `shadow.windows`, `variants`, `breaker`, `bulkhead`,
/// and on a fleet's leader `instances` (each instance's latest slice).
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
        case "instances":
            guard !pipeline.statistics.instances.isEmpty else { return nil }
            return .table(LuaFields(pipeline.statistics.instances.mapValues(Self.instanceView)))
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
        if !pipeline.statistics.instances.isEmpty { keys.append("instances") }
        return keys.sorted()
    }

    /// A fleet's leader: one instance's latest slice, read like the pipeline with only its `"10s"` window.
    private static func instanceView(_ slice: InstanceSlice) -> LuaViewValue {
        func windows(_ delta: OutcomeDelta) -> LuaViewValue {
            .table(LuaValueTable(["10s": .table(delta.totals.stats.luaFields)]))
        }
        var variants: [String: LuaViewValue] = [:]
        for (name, delta) in slice.variants { variants[name] = .table(LuaFields(["windows": windows(delta)])) }
        return .table(
            LuaFields([
                "slice": .value(.integer(slice.slice)), "windows": windows(slice.live),
                "shadow": .table(LuaFields(["windows": windows(slice.shadow)])), "variants": .table(LuaFields(variants)),
            ]))
    }
}
