import Resilience
import ScriptHost

/// `windows["10s" | "1m" | "5m" | "15m"]`, each computed when first read.
final class WindowsView: LuaTableSource {
    let stats: (StatisticsWindow) -> WindowStats

    init(_ stats: @escaping (StatisticsWindow) -> WindowStats) { self.stats = stats }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key, let window = StatisticsWindow(rawValue: name) else { return nil }
        return .table(LuaValueTable(stats(window).luaFields))
    }

    func luaKeys() -> [LuaKey] { StatisticsWindow.allCases.map { .string($0.rawValue) } }
}
