import Resilience

/// Takes ``SystemState`` snapshots of a registry's pipelines.
public struct Observer: Sendable {
    public let registry: ParameterRegistry

    public init(registry: ParameterRegistry) {
        self.registry = registry
    }

    /// A snapshot at the pipelines' current instant (or `instant`).
    public func snapshot(instant: Int64? = nil, frozen: Bool = false, trials: [String: CommandValue] = [:]) -> SystemState {
        let pipelines = registry.pipelines
        let now = instant ?? pipelines.first?.time.now() ?? 0
        return SystemState(
            instant: now, pipelines: pipelines.map { PipelineState(pipeline: $0, instant: now) }, frozen: frozen,
            trials: trials)
    }
}
