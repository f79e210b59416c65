import Resilience
import Sentinel

extension CallDriver {
    /// Builds a scenario's pipelines and backends: once, into `registries[0]`,
    /// or once per instance of its fleet, each into its own registry.
    init(_ scenario: Scenario, registries: [ParameterRegistry], time: any TimeSource, seed: UInt64) throws(ConfigurationError) {
        var runtimes: [PipelineRuntime] = []
        var backends: [SimulatedBackend] = []
        let count = scenario.pipelines.count
        let indexByName = Dictionary(uniqueKeysWithValues: scenario.pipelines.enumerated().map { ($0.element.name, $0.offset) })
        for (instance, registry) in registries.enumerated() {
            // The first instance draws what a single process draws: a fleet of one runs like no fleet.
            func streamName(_ name: String) -> String { instance == 0 ? name : "\(name)@\(instance)" }
            for (index, spec) in scenario.pipelines.enumerated() {
                let pipeline: Pipeline
                do {
                    pipeline = try Pipeline(
                        spec.name, registry: registry, time: time,
                        seed: Simulation.mix(seed, streamName(spec.name), 1)
                    ) { spec.components }
                } catch {
                    throw spec.location.error(error.description)
                }
                func target(_ name: String, _ backend: BackendSpec) -> PipelineRuntime.Target {
                    if let via = backend.via, let inner = indexByName[via] { return .pipeline(instance * count + inner) }
                    let own = scenario.fleet?.overrides.last { $0.instance == instance && $0.target == name }?.spec
                    backends.append(
                        SimulatedBackend(
                            name: name, instance: instance, spec: own ?? backend, seed: Simulation.mix(seed, streamName(name), 2)))
                    return .backend(backends.count - 1)
                }
                let targets: [PipelineRuntime.Target]
                switch spec.backends {
                case .shared(let backend): targets = [target(spec.name, backend)]
                case .perVariant(let list): targets = list.map { target("\(spec.name).\($0.variant)", $0.backend) }
                }
                runtimes.append(
                    PipelineRuntime(
                        index: instance * count + index, instance: instance, spec: spec, pipeline: pipeline, targets: targets,
                        // The first instance's arrivals stand for the whole fleet's: they are spread over the instances.
                        trafficSeed: Simulation.mix(seed, spec.name, 3), traffic: instance == 0 ? spec.traffic : nil))
            }
        }
        self.init(runtimes: runtimes, backends: backends, duration: scenario.duration)
        pipelinesPerInstance = count
        alive = Array(registries.indices)
        if registries.count > 1 {
            fleetWindows = scenario.pipelines.map { spec in (0...spec.variants.count).map { _ in OutcomeWindows() } }
        }
        slowCall = Int64((scenario.slowCall * 1e9).rounded())
    }

    /// New settings for the backend named `target` (`pipeline` or `pipeline.variant`): on
    /// `instance` only, or on every instance.
    mutating func setBackend(_ target: String, _ spec: BackendSpec, instance: Int? = nil, now: Int64) {
        for b in backends.indices where backends[b].name == target && (instance == nil || backends[b].instance == instance) {
            backends[b].spec = spec
            startWaiting(b, now: now)
        }
    }

    /// New traffic for `pipeline`; the next arrival is drawn at once.
    mutating func setTraffic(_ pipeline: String, _ spec: TrafficSpec, now: Int64) {
        guard let p = runtimes.firstIndex(where: { $0.name == pipeline }) else { return }
        runtimes[p].traffic = spec
        runtimes[p].arrivalToken &+= 1
        scheduleArrival(p, now: now)
    }
}
