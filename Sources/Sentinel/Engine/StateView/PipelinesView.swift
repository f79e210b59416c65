import Resilience
import ScriptHost

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
