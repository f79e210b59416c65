import Resilience
import Sentinel

/// Timed events: backend and traffic changes, commands.
extension ScenarioParser {
    func parseEvents(_ node: YAMLValue, pipelines: [PipelineSpec], duration: Double) throws(ConfigurationError) -> [TimedEvent] {
        // Backends and traffic as they stand after each event, so a `set` merges into the latest settings.
        var backends: [String: BackendSpec] = [:]
        var traffic: [String: TrafficSpec] = [:]
        for spec in pipelines {
            switch spec.backends {
            case .shared(let backend): backends[spec.name] = backend
            case .perVariant(let list): for (variant, backend) in list { backends["\(spec.name).\(variant)"] = backend }
            }
            traffic[spec.name] = spec.traffic
        }
        let items = try node.sequence().enumerated().map { (index, item) throws(ConfigurationError) -> (Double, Int, YAMLValue) in
            let f = try item.fields(allowing: ["at", "backend", "traffic", "command", "set", "args", "reason"])
            guard let at = f["at"] else { throw item.error("an event needs 'at' (when, such as 10m)") }
            let seconds = try at.durationSeconds()
            guard seconds <= duration else {
                throw at.error("\(formatSeconds(seconds)) is after the end of the run (\(formatSeconds(duration)))")
            }
            return (seconds, index, item)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var events: [TimedEvent] = []
        for (at, _, item) in items {
            let f = try item.fields(allowing: ["at", "backend", "traffic", "command", "set", "args", "reason"])
            let kinds = ["backend", "traffic", "command"].filter { f[$0] != nil }
            guard kinds.count == 1 else { throw item.error("an event is one of 'backend', 'traffic' or 'command'") }
            let location = SourceLocation(item, file: file)
            if let targetNode = f["backend"] {
                let target = try targetNode.string()
                guard let current = backends[target] else {
                    throw targetNode.error("no backend \(target) (backends: \(backends.keys.sorted().joined(separator: ", ")))")
                }
                guard current.via == nil else {
                    throw targetNode.error("\(target) passes its calls to pipeline \(current.via ?? ""); change that pipeline's backend")
                }
                guard let set = f["set"] else { throw item.error("a backend event needs 'set'") }
                guard f["args"] == nil, f["reason"] == nil else { throw item.error("'args' and 'reason' belong to command events") }
                let updated = try parseBackend(set, base: current)
                backends[target] = updated
                events.append(
                    TimedEvent(at: at, change: .backend(target: target, spec: updated), written: try set.jsonValue(), location: location))
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
