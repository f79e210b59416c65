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
        default: nil
        }
    }

    func luaKeys() -> [LuaKey] { ["frozen", "now", "params", "pipelines", "trials"] }
}

final class PipelinesView: LuaTableSource {
    let state: SystemState
    let sample: Bool

    init(state: SystemState, sample: Bool) {
        self.state = state
        self.sample = sample
    }

    func luaValue(for key: LuaKey) -> LuaViewValue? {
        guard case .string(let name) = key else { return nil }
        if let pipeline = state.pipeline(name) { return .table(PipelineView(pipeline)) }
        return sample ? .table(SamplePipelineView()) : nil
    }

    func luaKeys() -> [LuaKey] {
        // In `check`, loops over the pipelines run once, over a sample.
        if sample && state.pipelineNames.isEmpty { return ["sample"] }
        return state.pipelineNames.sorted().map { .string($0) }
    }
}

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
                variants[name] = .table(LuaFields([
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
            return .table(LuaValueTable([
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

extension WindowStats {
    /// The window fields scripts read; zeros with no traffic, never NaN.
    var luaFields: [LuaKey: LuaValue] {
        [
            "calls": .integer(Int64(calls)), "successes": .integer(Int64(successes)),
            "failures": .integer(Int64(failures)), "error_rate": .number(errorRate.isFinite ? errorRate : 0),
            "timeouts": .integer(Int64(timeouts)), "rejections": .integer(Int64(rejections)),
            "p50": .number(p50), "p90": .number(p90), "p99": .number(p99), "max": .number(max),
        ]
    }
}
