import Resilience
import ScriptHost

/// A pipeline with zero traffic and closed breaker, for `sentinel check`.
final class SamplePipelineView: LuaTableSource {
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        switch key {
        case "windows": .table(WindowsView { _ in .zero })
        case "shadow": .table(LuaFields(["windows": .table(WindowsView { _ in .zero })]))
        case "variants": .table(SampleVariantsView())
        case "breaker": .table(LuaValueTable(["state": "closed"]))
        case "bulkhead": .table(LuaValueTable(["in_use": 0, "queued": 0, "capacity": 1]))
        default: nil
        }
    }

    func luaKeys() -> [LuaKey] { ["breaker", "bulkhead", "shadow", "variants", "windows"] }
}

final class SampleVariantsView: LuaTableSource {
    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string = key else { return nil }
        return .table(LuaFields(["windows": .table(WindowsView { _ in .zero })]))
    }

    func luaKeys() -> [LuaKey] { [] }
}
