import Resilience
import ScriptHost

/// The `state` table scripts read: a lazy read-only view over a
/// ``SystemState``. Only the fields a rule reads are computed.
///
/// ```lua
/// state.now
/// state.pipelines.checkout.windows["1m"].error_rate
/// state.pipelines.checkout.shadow.windows["1m"].p99
/// state.pipelines.checkout.variants.canary.windows["5m"].calls
/// state.pipelines.checkout.breaker.state          -- "closed", "open", "half_open"
/// state.pipelines.checkout.bulkhead.in_use
/// state.params["checkout.retry.max_attempts"].value
/// state.trials.tighten.status
/// state.fleet.leader, state.fleet.instances, state.fleet.term
/// ```
final class StateView: LuaTableSource {
    let state: SystemState
    /// In `sentinel check`: any pipeline a script asks for exists with zero traffic.
    let sample: Bool

    init(_ state: SystemState, sample: Bool = false) {
        self.state = state
        self.sample = sample
    }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        switch key {
        case "now": .value(.number(state.now))
        case "pipelines": .table(PipelinesView(state: state, sample: sample))
        case "params": .table(ParametersView(state: state, sample: sample))
        case "trials": .table(LuaValueTable(wrapping: LuaValue(state.trials)))
        case "frozen": .value(.boolean(state.frozen))
        case "fleet": .table(LuaValueTable(wrapping: LuaValue(state.fleet)))
        default: nil
        }
    }

    func luaKeys() -> [LuaKey] { ["fleet", "frozen", "now", "params", "pipelines", "trials"] }
}
