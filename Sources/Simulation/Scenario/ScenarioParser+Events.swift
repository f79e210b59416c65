import Resilience
import Sentinel

/// Timed events: backend and traffic changes, commands.
extension ScenarioParser {
    func parseEvents(
        _ node: YAMLValue, pipelines: [PipelineSpec], fleet: FleetSpec?, duration: Double
    ) throws(ConfigurationError) -> [TimedEvent] {
        // Backends and traffic as they stand after each event, so a `set` merges into the latest settings.
        var backends = Self.backends(of: pipelines)
        for override in fleet?.overrides ?? [] { backends[Self.key(override.target, instance: override.instance)] = override.spec }
        var traffic: [String: TrafficSpec] = [:]
        for spec in pipelines { traffic[spec.name] = spec.traffic }
        var killed = 0
        let allowed: Set<String> = ["at", "backend", "traffic", "command", "kill", "instance", "set", "args", "reason"]
        let items = try node.sequence().enumerated().map { (index, item) throws(ConfigurationError) -> (Double, Int, YAMLValue) in
            let f = try item.fields(allowing: allowed)
            guard let at = f["at"] else { throw item.error("an event needs 'at' (when, such as 10m)") }
            let seconds = try at.durationSeconds()
            guard seconds <= duration else {
                throw at.error("\(formatSeconds(seconds)) is after the end of the run (\(formatSeconds(duration)))")
            }
            return (seconds, index, item)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var events: [TimedEvent] = []
        for (at, _, item) in items {
            let f = try item.fields(allowing: allowed)
            let kinds = ["backend", "traffic", "command", "kill"].filter { f[$0] != nil }
            guard kinds.count == 1 else { throw item.error("an event is one of 'backend', 'traffic', 'command' or 'kill'") }
            let location = SourceLocation(item, file: file)
            if let instanceNode = f["instance"], f["backend"] == nil {
                throw instanceNode.error("'instance' belongs to backend events (one instance's backend)")
            }
            if let targetNode = f["backend"] {
                let target = try targetNode.string()
                var instance: Int?
                if let instanceNode = f["instance"] {
                    guard let fleet else { throw instanceNode.error("'instance' needs a 'fleet' in the scenario") }
                    instance = try parseInstance(instanceNode, instances: fleet.instances)
                }
                let current = try backend(target, of: backends, targetNode, instance: instance)
                guard let set = f["set"] else { throw item.error("a backend event needs 'set'") }
                guard f["args"] == nil, f["reason"] == nil else { throw item.error("'args' and 'reason' belong to command events") }
                let updated = try parseBackend(set, base: current)
                let written = try set.jsonValue()
                if let instance {
                    backends[Self.key(target, instance: instance)] = updated
                    events.append(
                        TimedEvent(
                            at: at, change: .instanceBackend(instance: instance, target: target, spec: updated), written: written,
                            location: location))
                } else {
                    // Every instance takes these settings: its own ones are replaced.
                    for key in backends.keys where key.hasPrefix(target + "@") { backends[key] = nil }
                    backends[target] = updated
                    events.append(TimedEvent(at: at, change: .backend(target: target, spec: updated), written: written, location: location))
                }
            } else if let killNode = f["kill"] {
                guard let fleet else { throw killNode.error("'kill' stops an instance of a fleet: the scenario has no 'fleet'") }
                guard f["set"] == nil, f["args"] == nil, f["reason"] == nil else {
                    throw item.error("a kill event takes only 'at' and 'kill' (leader, or an instance from 1)")
                }
                killed += 1
                guard killed < fleet.instances else {
                    throw killNode.error(
                        "\(killed) kill events for a fleet of \(fleet.instances) instances: one at least must stay alive")
                }
                if (try? killNode.string()) == "leader" {
                    // The leader of the moment: which one it is, the run says.
                    events.append(TimedEvent(at: at, change: .kill(instance: nil), written: "leader", location: location))
                } else {
                    guard (try? killNode.int()) != nil else {
                        throw killNode.error("expected leader, or an instance from 1 to \(fleet.instances)")
                    }
                    let instance = try parseInstance(killNode, instances: fleet.instances)
                    events.append(
                        TimedEvent(
                            at: at, change: .kill(instance: instance), written: .string(FleetSpec.name(of: instance)),
                            location: location))
                }
            } else if let pipelineNode = f["traffic"] {
                let pipeline = try pipelineNode.string()
                guard pipelines.contains(where: { $0.name == pipeline }) else { throw pipelineNode.error("no pipeline \(pipeline)") }
                guard let set = f["set"] else { throw item.error("a traffic event needs 'set'") }
                guard f["args"] == nil, f["reason"] == nil else { throw item.error("'args' and 'reason' belong to command events") }
                let updated = try parseTraffic(set, base: traffic[pipeline] ?? TrafficSpec(rate: 0), duration: duration)
                traffic[pipeline] = updated
                events.append(
                    TimedEvent(
                        at: at, change: .traffic(pipeline: pipeline, spec: updated), written: try set.jsonValue(), location: location))
            } else if let commandNode = f["command"] {
                guard f["set"] == nil else { throw item.error("a command event takes 'args', not 'set'") }
                let name = try commandNode.string()
                var arguments: [String: JSONValue] = [:]
                if let args = f["args"] {
                    guard case .object(let object) = try args.jsonValue() else { throw args.error("expected a mapping of arguments") }
                    arguments = object
                }
                events.append(
                    TimedEvent(
                        at: at, change: .command(name: name, arguments: arguments, reason: try f["reason"]?.string()),
                        written: .object(arguments), location: location))
            }
        }
        return events
    }
}
