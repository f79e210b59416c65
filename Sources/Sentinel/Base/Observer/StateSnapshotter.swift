import Resilience

/// Takes ``SystemState`` snapshots of a registry's pipelines.
public struct StateSnapshotter: Sendable {
    public let registry: ParameterRegistry

    public init(registry: ParameterRegistry) {
        self.registry = registry
    }

    /// A snapshot at the pipelines' current instant (or `instant`).
    public func snapshot(
        instant: Int64? = nil, frozen: Bool = false, trials: [String: JSONValue] = [:],
        fleet: [String: JSONValue] = SystemState.singleProcessFleet, statistics: (any PipelineStatisticsSource)? = nil
    ) -> SystemState {
        let directory = registry.directory
        let now = instant ?? directory.names.first.flatMap { directory.pipelines[$0]?.time.now() } ?? 0
        return SystemState(
            instant: now, names: directory.names, pipelines: directory.pipelines, frozen: frozen, trials: trials,
            fleet: fleet, statistics: statistics)
    }
}

/// The name `StateSnapshotter` had before: it only ever took snapshots.
@available(*, deprecated, renamed: "StateSnapshotter")
public typealias Observer = StateSnapshotter
