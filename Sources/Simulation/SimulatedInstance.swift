import Resilience
import Sentinel

/// One process of a scenario's service: its knobs, its control plane, trials
/// and scripts (evaluated only while it decides), and what it publishes of
/// its calls. Without a fleet the run has exactly one.
final class SimulatedInstance {
    let index: Int
    /// `instance-1`, … (a fleet's); the run's only process is `instance-1` too.
    let name: String
    let registry: ParameterRegistry
    let runtime: SentinelRuntime
    /// Whether it still runs (a `kill` event stops it for good).
    var alive = true
    /// Cuts its slices (a fleet's).
    var publisher: SlicePublisher
    /// The fleet's statistics while it leads and has merged a slice: what its scripts and trials read.
    let merged = Locked<FleetStatistics?>(nil)

    init(index: Int, registry: ParameterRegistry, runtime: SentinelRuntime) {
        self.index = index
        name = FleetSpec.name(of: index)
        self.registry = registry
        self.runtime = runtime
        publisher = SlicePublisher(instance: name)
    }

    /// Makes its scripts and trials read the fleet's merged statistics while it
    /// leads (once a slice was merged; before, its own windows), and
    /// `state.fleet` read `view`.
    func readFleetStatistics(view: Locked<[String: JSONValue]>) async {
        let merged = self.merged
        let provider: @Sendable () -> (any PipelineStatisticsSource)? = {
            merged.withLock { $0 }.flatMap { $0.latestSlice != nil ? $0 : nil }
        }
        await runtime.engine.setStatisticsProvider(provider)
        runtime.trials.setStatisticsProvider(provider)
        await runtime.engine.setFleetProvider { view.withLock { $0 } }
    }
}

/// What a simulated fleet shares, kept as PostgreSQL keeps it for
/// `sentinel run --fleet`: the leader and its term, the desired state as the
/// deciding instance last wrote it, and every instance's slices (encoded as
/// they are in `sentinel_slices`).
struct SimulatedFleetStore {
    var leader: Int?
    var term: Int64 = 0
    /// Bumped at every write of the desired state.
    var version: Int64 = 0
    var desired = DesiredState()
    /// Slice reports, in the order written (slice after slice).
    var slices: [(instance: String, slice: Int64, bytes: [UInt8])] = []
    /// How many of `slices` the leader merged.
    var merged = 0
    /// Instances killed, in order.
    var killed: [String] = []
    let lease: Double
}
