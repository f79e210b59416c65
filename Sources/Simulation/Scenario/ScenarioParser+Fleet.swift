import Resilience
import Sentinel

/// A fleet of instances (`fleet`), and what events say of one instance.
extension ScenarioParser {
    func parseFleet(_ node: YAMLValue, pipelines: [PipelineSpec]) throws(ConfigurationError) -> FleetSpec {
        let f = try node.fields(allowing: ["instances", "lease", "overrides"])
        guard let instancesNode = f["instances"] else { throw node.error("a fleet needs 'instances' (how many, such as 10)") }
        let instances = try instancesNode.int(in: .simulatedInstances)
        let lease = try f["lease"]?.durationSeconds(in: .fleetLease) ?? 5
        var overrides: [InstanceBackend] = []
        var backends = Self.backends(of: pipelines)
        for item in try f["overrides"]?.sequence() ?? [] {
            let o = try item.fields(allowing: ["instance", "backend", "set"])
            guard let instanceNode = o["instance"], let targetNode = o["backend"], let set = o["set"] else {
                throw item.error("an override needs 'instance' (from 1), 'backend' and 'set'")
            }
            let instance = try parseInstance(instanceNode, instances: instances)
            let target = try targetNode.string()
            let base = try backend(target, of: backends, targetNode, instance: instance)
            let spec = try parseBackend(set, base: base)
            backends[Self.key(target, instance: instance)] = spec
            overrides.append(InstanceBackend(instance: instance, target: target, spec: spec))
        }
        return FleetSpec(instances: instances, lease: lease, overrides: overrides)
    }

    /// An instance written from 1; returned from 0.
    func parseInstance(_ node: YAMLValue, instances: Int) throws(ConfigurationError) -> Int {
        let number = try node.int()
        guard (1...instances).contains(number) else {
            throw node.error("no instance \(number): the fleet's instances are 1 to \(instances)")
        }
        return number - 1
    }

    /// Every backend's settings at the start, by `pipeline` or `pipeline.variant`.
    static func backends(of pipelines: [PipelineSpec]) -> [String: BackendSpec] {
        var backends: [String: BackendSpec] = [:]
        for spec in pipelines {
            switch spec.backends {
            case .shared(let backend): backends[spec.name] = backend
            case .perVariant(let list): for (variant, backend) in list { backends["\(spec.name).\(variant)"] = backend }
            }
        }
        return backends
    }

    /// Where one instance's own settings of a backend are kept while parsing.
    static func key(_ target: String, instance: Int?) -> String {
        instance.map { "\(target)@\($0)" } ?? target
    }

    /// A backend's settings as they stand (on `instance` when given), for a change to merge into.
    func backend(
        _ target: String, of backends: [String: BackendSpec], _ node: YAMLValue, instance: Int?
    ) throws(ConfigurationError) -> BackendSpec {
        guard !target.contains("@"), let shared = backends[target] else {
            let names = backends.keys.filter { !$0.contains("@") }.sorted()
            throw node.error("no backend \(target) (backends: \(names.joined(separator: ", ")))")
        }
        guard shared.via == nil else {
            throw node.error("\(target) passes its calls to pipeline \(shared.via ?? ""); change that pipeline's backend")
        }
        return instance.flatMap { backends[Self.key(target, instance: $0)] } ?? shared
    }
}
