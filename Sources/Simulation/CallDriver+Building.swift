import Resilience
import Sentinel

extension CallDriver {
    /// Builds a scenario's pipelines into `registry` and its backends, on `time`.
    init(_ scenario: Scenario, registry: ParameterRegistry, time: any TimeSource, seed: UInt64) throws(ConfigurationError) {
        var runtimes: [PipelineRuntime] = []
        var backends: [SimulatedBackend] = []
        let indexByName = Dictionary(uniqueKeysWithValues: scenario.pipelines.enumerated().map { ($0.element.name, $0.offset) })
        for (index, spec) in scenario.pipelines.enumerated() {
            let pipeline: Pipeline
            do {
                pipeline = try Pipeline(
                    spec.name, registry: registry, time: time,
                    seed: Simulation.mix(seed, spec.name, 1)
                ) { spec.components }
            } catch {
                throw spec.location.error(error.description)
            }
            func target(_ name: String, _ backend: BackendSpec) -> PipelineRuntime.Target {
                if let via = backend.via, let inner = indexByName[via] { return .pipeline(inner) }
                backends.append(SimulatedBackend(name: name, spec: backend, seed: Simulation.mix(seed, name, 2)))
                return .backend(backends.count - 1)
            }
            let targets: [PipelineRuntime.Target]
            switch spec.backends {
            case .shared(let backend): targets = [target(spec.name, backend)]
            case .perVariant(let list): targets = list.map { target("\(spec.name).\($0.variant)", $0.backend) }
            }
            runtimes.append(
                PipelineRuntime(
                    index: index, spec: spec, pipeline: pipeline, targets: targets,
                    trafficSeed: Simulation.mix(seed, spec.name, 3)))
        }
        self.init(runtimes: runtimes, backends: backends, duration: scenario.duration)
        slowCall = Int64((scenario.slowCall * 1e9).rounded())
    }

    /// New settings for the backend named `target` (`pipeline` or `pipeline.variant`).
    mutating func setBackend(_ target: String, _ spec: BackendSpec, now: Int64) {
        for b in backends.indices where backends[b].name == target {
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
