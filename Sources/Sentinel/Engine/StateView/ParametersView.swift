import Resilience
import ScriptHost

/// `params[name]` → `{ value, shadow, min, max }`.
final class ParametersView: LuaTableSource {
    let state: SystemState
    let sample: Bool

    init(state: SystemState, sample: Bool = false) {
        self.state = state
        self.sample = sample
    }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key else { return nil }
        guard let info = state.parameter(name) else {
            // In `check`, every well-formed knob exists with value 0 (as `sentinel.get` answers).
            guard sample, ParameterRegistry.isWellFormed(name) else { return nil }
            return .table(LuaValueTable(["value": 0, "min": 0, "max": .number(1e9)]))
        }
        var fields: [LuaKey: LuaValue] = [
            "value": .number(info.value), "min": .number(info.minimum), "max": .number(info.maximum),
        ]
        if let shadow = info.shadow { fields["shadow"] = .number(shadow) }
        return .table(LuaValueTable(fields))
    }

    func luaKeys() -> [LuaKey] {
        state.pipelineNames.compactMap(state.pipeline).flatMap { $0.parameters.map { LuaKey.string($0.name) } }.sorted()
    }
}
