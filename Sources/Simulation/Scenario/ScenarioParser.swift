import Resilience
import Sentinel

extension Scenario {
    /// Reads a scenario from YAML text. Every error names the file, the line
    /// and the field path: `canary.yaml:14: pipelines.checkout.backend.error_rate: ...`.
    ///
    /// - Parameters:
    ///   - file: the path, for errors and for the default name and policies folder.
    public init(yaml text: String, file: String? = nil) throws(ConfigurationError) {
        var parser = ScenarioParser(file: file)
        self = try parser.parse(YAMLValue.parse(text, file: file))
    }
}

/// The YAML reader behind ``Scenario/init(yaml:file:)``.
struct ScenarioParser {
    let file: String?

    static let backendFields: Set<String> = ["latency", "error_rate", "capacity", "queue_limit", "via"]
    static let trafficFields: Set<String> = ["rate", "pattern", "to", "steps", "period", "amplitude", "at", "for", "factor", "keys"]

    mutating func parse(_ root: YAMLValue) throws(ConfigurationError) -> Scenario {
        let fields = try root.fields(allowing: [
            "name", "description", "duration", "seed", "start", "policies", "constants", "control", "sample", "slow_call",
            "pipelines", "fleet", "events", "expect",
        ])
        guard let durationNode = fields["duration"] else { throw root.error("a scenario needs 'duration' (for example 30m)") }
        let duration = try durationNode.durationSeconds(in: .scenarioDuration)
        var seed: UInt64 = 1
        if let node = fields["seed"] {
            seed = UInt64(try node.int(in: InputRange(0, 9_007_199_254_740_992, unit: .number, wholeNumber: true)))
        }
        var start = 1_767_225_600.0  // 2026-01-01T00:00:00Z
        if let node = fields["start"] {
            let text = try node.string()
            guard let seconds = RFC3339.unixSeconds(from: text) else {
                throw node.error("expected an RFC 3339 time like \"2026-01-01T00:00:00Z\", got \"\(text)\"")
            }
            start = seconds
        }
        let control =
            try fields["control"].map { (node) throws(ConfigurationError) in try ControlPlaneConfiguration(node: node) }
            ?? ControlPlaneConfiguration()
        var sample = 60.0
        if let node = fields["sample"] {
            // 0 means never; otherwise at least a second, so the events stay bounded.
            sample = try node.durationSeconds(in: .seconds(0...InputRange.scenarioSample.upper))
            if sample > 0 { sample = try node.durationSeconds(in: .scenarioSample) }
        }
        let slowCall = try fields["slow_call"]?.durationSeconds(in: .slowCall) ?? 1
        guard let pipelinesNode = fields["pipelines"] else { throw root.error("a scenario needs 'pipelines'") }
        let pipelines = try parsePipelines(pipelinesNode, duration: duration)
        let fleet = try fields["fleet"].map { (node) throws(ConfigurationError) in try parseFleet(node, pipelines: pipelines) }
        if fleet != nil, let node = fields["start"], !FleetClock.slices.contains(FleetClock.slice(at: start) + 1) || start < 0 {
            throw node.error("a fleet's slices are cut on Unix time: start must be from 1970 to 2255")
        }
        var events =
            try fields["events"].map { (node) throws(ConfigurationError) in
                try parseEvents(node, pipelines: pipelines, fleet: fleet, duration: duration)
            } ?? []
        events = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        let expectations =
            try fields["expect"].map { (node) throws(ConfigurationError) in
                try parseExpectations(node, pipelines: pipelines)
            } ?? []
        return Scenario(
            name: try fields["name"]?.string() ?? Self.defaultName(file),
            description: try fields["description"]?.string(),
            duration: duration, seed: seed, start: start,
            policies: try fields["policies"]?.string() ?? ".",
            constants: try fields["constants"].map { (node) throws(ConfigurationError) in try parseConstants(node) } ?? [],
            control: control, sample: sample, slowCall: slowCall, fleet: fleet, pipelines: pipelines, events: events,
            expectations: expectations)
    }

    static func defaultName(_ file: String?) -> String {
        guard let file else { return "scenario" }
        var base = Substring(file.split(separator: "/").last ?? "scenario")
        for suffix in [".yaml", ".yml"] where base.hasSuffix(suffix) { base = base.dropLast(suffix.count) }
        return String(base)
    }

    func parsePipelines(_ node: YAMLValue, duration: Double) throws(ConfigurationError) -> [PipelineSpec] {
        var specs: [PipelineSpec] = []
        for (name, pipelineNode) in try node.mapping() {
            guard ParameterRegistry.isWellFormed("\(name).p.k") else {
                throw pipelineNode.error("\"\(name)\" is not a pipeline name (letters, digits, _ and -)")
            }
            let fields = try pipelineNode.fields(allowing: ["policies", "backend", "backends", "traffic"])
            var components: [PipelineComponent] = []
            var variants: [String] = []
            var seen: Set<String> = []
            for item in try fields["policies"]?.sequence() ?? [] {
                let pairs = try item.mapping()
                guard pairs.count == 1, let (kind, settings) = pairs.first else {
                    throw item.error("each policy is a one-key map such as `- timeout: { duration: 500ms }`")
                }
                guard seen.insert(kind).inserted else { throw settings.error("\(kind) appears twice in this pipeline") }
                let (component, splitVariants) = try parsePolicy(kind, settings)
                try checkInitialValues(component, pipeline: name, settings)
                components.append(component)
                if let splitVariants { variants = splitVariants }
            }
            let backends: BackendAssignment
            switch (fields["backend"], fields["backends"]) {
            case (let single?, nil):
                backends = .shared(try parseBackend(single))
            case (nil, let perVariant?):
                guard !variants.isEmpty else {
                    throw perVariant.error("'backends' is per split variant, and this pipeline has no split (use 'backend')")
                }
                var list: [(String, BackendSpec)] = []
                let given = try perVariant.mapping()
                for (variant, backendNode) in given {
                    guard variants.contains(variant) else {
                        throw backendNode.error("no split variant named \(variant) (variants: \(variants.joined(separator: ", ")))")
                    }
                }
                for variant in variants {
                    guard let backendNode = given.first(where: { $0.key == variant })?.value else {
                        throw perVariant.error("the split variant \(variant) has no backend")
                    }
                    list.append((variant, try parseBackend(backendNode)))
                }
                backends = .perVariant(list)
            case (.some, .some):
                throw pipelineNode.error("give either 'backend' or 'backends', not both")
            case (nil, nil):
                throw pipelineNode.error("a pipeline needs 'backend' (or 'backends', one per split variant)")
            }
            let traffic = try fields["traffic"].map { (node) throws(ConfigurationError) in
                try parseTraffic(node, base: nil, duration: duration)
            }
            specs.append(
                PipelineSpec(
                    name: name, components: components, variants: variants, backends: backends, traffic: traffic,
                    location: SourceLocation(pipelineNode, file: file)))
        }
        guard !specs.isEmpty else { throw node.error("a scenario needs at least one pipeline") }
        try checkVia(specs, node)
        return specs
    }

    /// Every `via` names a pipeline, and following them never comes back.
    func checkVia(_ specs: [PipelineSpec], _ node: YAMLValue) throws(ConfigurationError) {
        let names = Set(specs.map(\.name))
        func targets(_ spec: PipelineSpec) -> [String] {
            switch spec.backends {
            case .shared(let backend): backend.via.map { [$0] } ?? []
            case .perVariant(let list): list.compactMap(\.backend.via)
            }
        }
        for spec in specs {
            for target in targets(spec) where !names.contains(target) {
                throw spec.location.error("via \(target): no pipeline of that name")
            }
        }
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        for spec in specs {
            var frontier = targets(spec).map { [spec.name, $0] }
            while let route = frontier.popLast() {
                guard let last = route.last else { continue }
                if last == spec.name { throw spec.location.error("via makes a cycle: \(route.joined(separator: " → "))") }
                guard route.count <= specs.count + 1, let next = byName[last] else { continue }
                frontier += targets(next).map { route + [$0] }
            }
        }
        for spec in specs where spec.traffic == nil {
            let reached = specs.contains { other in targets(other).contains(spec.name) }
            guard reached else {
                throw spec.location.error("a pipeline needs 'traffic' unless another one reaches it with 'via'")
            }
        }
    }
}
