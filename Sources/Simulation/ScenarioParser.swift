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
            "name", "description", "duration", "seed", "start", "policies", "control", "sample", "pipelines", "events", "expect",
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
        let control = try fields["control"].map { (node) throws(ConfigurationError) in try ControlPlaneConfiguration(node: node) }
            ?? ControlPlaneConfiguration()
        var sample = 60.0
        if let node = fields["sample"] {
            // 0 means never; otherwise at least a second, so the events stay bounded.
            sample = try node.durationSeconds(in: .seconds(0...InputRange.scenarioSample.upper))
            if sample > 0 { sample = try node.durationSeconds(in: .scenarioSample) }
        }
        guard let pipelinesNode = fields["pipelines"] else { throw root.error("a scenario needs 'pipelines'") }
        let pipelines = try parsePipelines(pipelinesNode, duration: duration)
        var events = try fields["events"].map { (node) throws(ConfigurationError) in
            try parseEvents(node, pipelines: pipelines, duration: duration)
        } ?? []
        events = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        let expectations = try fields["expect"].map { (node) throws(ConfigurationError) in
            try parseExpectations(node, pipelines: pipelines)
        } ?? []
        return Scenario(
            name: try fields["name"]?.string() ?? Self.defaultName(file),
            description: try fields["description"]?.string(),
            duration: duration, seed: seed, start: start,
            policies: try fields["policies"]?.string() ?? ".",
            control: control, sample: sample, pipelines: pipelines, events: events, expectations: expectations)
    }

    static func defaultName(_ file: String?) -> String {
        guard let file else { return "scenario" }
        var base = Substring(file.split(separator: "/").last ?? "scenario")
        for suffix in [".yaml", ".yml"] where base.hasSuffix(suffix) { base = base.dropLast(suffix.count) }
        return String(base)
    }

    // MARK: - Pipelines

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
            specs.append(PipelineSpec(
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

    func parsePolicy(_ kind: String, _ node: YAMLValue) throws(ConfigurationError) -> (PipelineComponent, [String]?) {
        switch kind {
        case "timeout":
            let f = try node.fields(allowing: ["duration", "mode"])
            guard let duration = f["duration"] else { throw node.error("a timeout needs 'duration'") }
            var mode = Timeout.Mode.enforced
            if let modeNode = f["mode"] {
                switch try modeNode.string() {
                case "enforced": mode = .enforced
                case "cooperative": mode = .cooperative
                case let other: throw modeNode.error("expected enforced or cooperative, got \"\(other)\"")
                }
            }
            return (Timeout(try duration.duration(), mode: mode).component, nil)
        case "retry":
            let f = try node.fields(allowing: [
                "max_attempts", "backoff", "base_delay", "max_delay", "multiplier", "jitter", "budget_ratio", "budget_reserve",
            ])
            var backoff = Backoff.exponential
            if let b = f["backoff"] {
                let text = try b.string()
                guard let value = Backoff(rawValue: text) else {
                    throw b.error("expected constant, linear or exponential, got \"\(text)\"")
                }
                backoff = value
            }
            var jitter = Jitter.full
            if let j = f["jitter"] {
                let text = try j.string()
                guard let value = Jitter(rawValue: text) else {
                    throw j.error("expected none, full, equal or decorrelated, got \"\(text)\"")
                }
                jitter = value
            }
            var budgetRatio: Double? = 0.2
            if let r = f["budget_ratio"] {
                if r.isNull || (try? r.string()) == "none" { budgetRatio = nil } else {
                    budgetRatio = try ratio(r)
                }
            }
            let retry = Retry(
                maxAttempts: try f["max_attempts"].map { (n) throws(ConfigurationError) in try positiveInt(n) } ?? 3,
                backoff: backoff,
                baseDelay: try f["base_delay"]?.duration() ?? .milliseconds(100),
                maxDelay: try f["max_delay"]?.duration() ?? .seconds(10),
                multiplier: try f["multiplier"]?.double() ?? 2,
                jitter: jitter, budgetRatio: budgetRatio,
                budgetReserve: try f["budget_reserve"]?.double(in: InputRange(0, 1_000_000, unit: .number)) ?? 10)
            return (retry.component, nil)
        case "breaker":
            let f = try node.fields(allowing: [
                "failure_rate", "slow_call_rate", "slow_call_duration", "minimum_calls", "window", "open_duration",
                "open_multiplier", "max_open_duration", "half_open_calls",
            ])
            var window = BreakerWindowKind.count(100)
            if let w = f["window"] {
                if let count = try? w.int() {
                    guard count > 0 else { throw w.error("expected a number of calls above 0 or a duration like 30s") }
                    window = .count(try w.int(in: .breakerCountWindow))
                } else {
                    let seconds = try w.durationSeconds(in: .seconds(1...InputRange.breakerTimeWindow.upper))
                    window = .time(seconds: Int(seconds.rounded()))
                }
            }
            let breaker = CircuitBreaker(
                failureRate: try f["failure_rate"].map { (n) throws(ConfigurationError) in try ratio(n) } ?? 0.5,
                slowCallRate: try f["slow_call_rate"].map { (n) throws(ConfigurationError) in try ratio(n) } ?? 1,
                slowCallDuration: try f["slow_call_duration"]?.duration() ?? .seconds(60),
                minimumCalls: try f["minimum_calls"].map { (n) throws(ConfigurationError) in try positiveInt(n) } ?? 20,
                window: window,
                openDuration: try f["open_duration"]?.duration() ?? .seconds(30),
                openMultiplier: try f["open_multiplier"]?.double() ?? 1,
                maxOpenDuration: try f["max_open_duration"]?.duration() ?? .seconds(300),
                halfOpenCalls: try f["half_open_calls"].map { (n) throws(ConfigurationError) in try positiveInt(n) } ?? 5)
            return (breaker.component, nil)
        case "bulkhead":
            let f = try node.fields(allowing: ["max_concurrent", "max_queued", "queue_timeout"])
            guard let concurrent = f["max_concurrent"] else { throw node.error("a bulkhead needs 'max_concurrent'") }
            let queued = try f["max_queued"]?.int() ?? 0
            guard queued >= 0 else { throw node.error("max_queued: expected 0 or more, got \(queued)") }
            return (Bulkhead(maxConcurrent: try positiveInt(concurrent), maxQueued: queued,
                             queueTimeout: try f["queue_timeout"]?.duration() ?? .zero).component, nil)
        case "ratelimit":
            let f = try node.fields(allowing: ["rate", "burst", "window"])
            guard let rateNode = f["rate"] else { throw node.error("a rate limit needs 'rate' (permits per second)") }
            let rate = try rateNode.double()
            guard rate > 0 else { throw rateNode.error("expected a rate above 0, got \(rate)") }
            if f["burst"] != nil, f["window"] != nil { throw node.error("give 'burst' (token bucket) or 'window' (sliding window), not both") }
            let algorithm: RateLimit.Algorithm = if let w = f["window"] {
                .slidingWindow(window: try w.duration())
            } else {
                .tokenBucket(burst: try f["burst"]?.double() ?? 1)
            }
            return (RateLimit(rate: rate, algorithm: algorithm).component, nil)
        case "split":
            var variants: [(name: String, weight: Double)] = []
            for (variant, weightNode) in try node.mapping() {
                let weight = try weightNode.double()
                guard weight >= 0, weight <= 100 else { throw weightNode.error("expected a weight from 0 to 100, got \(weight)") }
                variants.append((variant, weight))
            }
            guard variants.count >= 2 else { throw node.error("a split needs at least two variants, such as { stable: 100, canary: 0 }") }
            return (TrafficSplit(variants).component, variants.map(\.name))
        default:
            throw node.error("unknown policy \(kind) (expected timeout, retry, breaker, bulkhead, ratelimit or split)")
        }
    }

    /// Every knob's initial value within its bounds, refused at the field
    /// that set it (`timeout: { duration: 2d }` names `duration`).
    func checkInitialValues(_ component: PipelineComponent, pipeline: String, _ settings: YAMLValue) throws(ConfigurationError) {
        let fields = (try? settings.mapping()) ?? []
        for knob in component.knobDescriptors(pipeline: pipeline) {
            do {
                _ = try knob.validate(knob.defaultValue)
            } catch {
                let suffix = String(knob.name.split(separator: ".").last ?? "")
                let node = fields.first { $0.key == suffix || $0.key + "_weight" == suffix }?.value ?? settings
                throw node.error(error.message)
            }
        }
    }

    func ratio(_ node: YAMLValue) throws(ConfigurationError) -> Double {
        let value = try node.double()
        guard value >= 0, value <= 1 else { throw node.error("expected a number between 0 and 1, got \(trimmed(value, digits: 6))") }
        return value
    }

    func positiveInt(_ node: YAMLValue) throws(ConfigurationError) -> Int {
        let value = try node.int()
        guard value >= 1 else { throw node.error("expected a whole number of at least 1, got \(value)") }
        return value
    }

    // MARK: - Backends and traffic

    func parseBackend(_ node: YAMLValue, base: BackendSpec? = nil) throws(ConfigurationError) -> BackendSpec {
        let f = try node.fields(allowing: Self.backendFields)
        var spec = base ?? BackendSpec()
        if let via = f["via"] {
            guard base == nil else { throw via.error("'via' cannot change during a run") }
            guard f.count == 1 else { throw node.error("a 'via' backend has no other fields: the pipeline it names decides") }
            spec.via = try via.string()
            return spec
        }
        if base == nil, f["latency"] == nil { throw node.error("a backend needs 'latency', such as { distribution: fixed, value: 40ms }") }
        if let latency = f["latency"] { spec.latency = try parseLatency(latency) }
        if let errorRate = f["error_rate"] { spec.errorRate = try ratio(errorRate) }
        if let capacity = f["capacity"] {
            spec.capacity = capacity.isNull ? nil : try capacity.int(in: .backendCapacity)
        }
        if let limit = f["queue_limit"] { spec.queueLimit = limit.isNull ? nil : try limit.int(in: .backendQueue) }
        return spec
    }

    func parseLatency(_ node: YAMLValue) throws(ConfigurationError) -> LatencyDistribution {
        if (try? node.mapping()) == nil { return .fixed(try node.durationSeconds(in: .simulatedLatency)) }  // `latency: 40ms`
        let kind = try node.fields(allowing: ["distribution", "value", "min", "max", "p50", "p99", "fast", "slow", "slow_fraction"])
        guard let distribution = kind["distribution"] else {
            throw node.error("a latency needs 'distribution': fixed, uniform, lognormal or bimodal")
        }
        func only(_ allowed: Set<String>) throws(ConfigurationError) {
            for key in kind.keys where key != "distribution" && !allowed.contains(key) {
                throw node.error("\(key) does not apply to this distribution (it takes \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        func need(_ key: String) throws(ConfigurationError) -> YAMLValue {
            guard let value = kind[key] else { throw node.error("this distribution needs '\(key)'") }
            return value
        }
        switch try distribution.string() {
        case "fixed":
            try only(["value"])
            return .fixed(try need("value").durationSeconds(in: .simulatedLatency))
        case "uniform":
            try only(["min", "max"])
            let low = try need("min").durationSeconds(in: .simulatedLatency)
            let high = try need("max").durationSeconds(in: .simulatedLatency)
            guard high >= low else { throw node.error("max (\(formatSeconds(high))) is below min (\(formatSeconds(low)))") }
            return .uniform(min: low, max: high)
        case "lognormal":
            try only(["p50", "p99"])
            let p50 = try need("p50").durationSeconds(in: .simulatedLatency)
            let p99 = try need("p99").durationSeconds(in: .simulatedLatency)
            guard p50 > 0 else { throw node.error("p50 must be above 0") }
            guard p99 >= p50 else { throw node.error("p99 (\(formatSeconds(p99))) is below p50 (\(formatSeconds(p50)))") }
            return .logNormal(p50: p50, p99: p99)
        case "bimodal":
            try only(["fast", "slow", "slow_fraction"])
            return .bimodal(fast: try parseLatency(try need("fast")), slow: try parseLatency(try need("slow")),
                            slowFraction: try ratio(try need("slow_fraction")))
        case let other:
            throw distribution.error("unknown distribution \"\(other)\" (expected fixed, uniform, lognormal or bimodal)")
        }
    }

    func parseTraffic(_ node: YAMLValue, base: TrafficSpec?, duration: Double) throws(ConfigurationError) -> TrafficSpec {
        let f = try node.fields(allowing: Self.trafficFields)
        var spec = base ?? TrafficSpec(rate: 0)
        if let rateNode = f["rate"] {
            let rate = try rateNode.double()
            guard rate >= 0, rate <= 10_000_000 else { throw rateNode.error("expected requests per second from 0 to 10000000, got \(rate)") }
            spec.rate = rate
        } else if base == nil {
            throw node.error("traffic needs 'rate' (requests per second)")
        }
        if let keys = f["keys"] { spec.keys = keys.isNull ? nil : try keys.int(in: .trafficKeys) }
        let patternFields: Set<String> = ["to", "steps", "period", "amplitude", "at", "for", "factor"]
        let patternName: String? = try f["pattern"]?.string()
        guard patternName != nil || f.keys.allSatisfy({ !patternFields.contains($0) }) else {
            throw node.error("pattern fields need 'pattern' (constant, ramp, step, diurnal or spike)")
        }
        func only(_ allowed: Set<String>) throws(ConfigurationError) {
            for key in f.keys where patternFields.contains(key) && !allowed.contains(key) {
                throw node.error("\(key) does not apply to pattern \(patternName ?? "constant")")
            }
        }
        func need(_ key: String) throws(ConfigurationError) -> YAMLValue {
            guard let value = f[key] else { throw node.error("pattern \(patternName ?? "") needs '\(key)'") }
            return value
        }
        switch patternName {
        case nil: break
        case "constant":
            try only([])
            spec.pattern = .constant
        case "ramp":
            try only(["to"])
            let target = try need("to").double()
            guard target >= 0 else { throw node.error("to: expected 0 or more") }
            spec.pattern = .ramp(to: try need("to").double(in: .trafficRate))
        case "step":
            try only(["steps"])
            var steps: [TrafficPattern.Step] = []
            for stepNode in try need("steps").sequence() {
                let s = try stepNode.fields(allowing: ["at", "rate"])
                guard let at = s["at"], let rate = s["rate"] else { throw stepNode.error("a step needs 'at' and 'rate'") }
                guard try rate.double() >= 0 else { throw rate.error("expected 0 or more") }
                let step = TrafficPattern.Step(
                    at: try at.durationSeconds(in: .seconds(0...duration)), rate: try rate.double(in: .trafficRate))
                if let last = steps.last, step.at < last.at { throw at.error("steps must be in order of 'at'") }
                steps.append(step)
            }
            spec.pattern = .step(steps)
        case "diurnal":
            try only(["period", "amplitude"])
            let period = try need("period").durationSeconds(in: .trafficPeriod)
            spec.pattern = .diurnal(period: period, amplitude: try ratio(try need("amplitude")))
        case "spike":
            try only(["at", "for", "factor"])
            guard try need("factor").double() >= 0 else { throw node.error("factor: expected 0 or more") }
            spec.pattern = .spike(
                at: try need("at").durationSeconds(in: .seconds(0...duration)),
                length: try need("for").durationSeconds(in: .seconds(0...duration)),
                factor: try need("factor").double(in: .spikeFactor))
        case let other?:
            throw f["pattern"]!.error("unknown pattern \"\(other)\" (expected constant, ramp, step, diurnal or spike)")
        }
        return spec
    }

    // MARK: - Events

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
            guard seconds <= duration else { throw at.error("\(formatSeconds(seconds)) is after the end of the run (\(formatSeconds(duration)))") }
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
                guard current.via == nil else { throw targetNode.error("\(target) passes its calls to pipeline \(current.via ?? ""); change that pipeline's backend") }
                guard let set = f["set"] else { throw item.error("a backend event needs 'set'") }
                guard f["args"] == nil, f["reason"] == nil else { throw item.error("'args' and 'reason' belong to command events") }
                let updated = try parseBackend(set, base: current)
                backends[target] = updated
                events.append(TimedEvent(at: at, change: .backend(target: target, spec: updated), written: try set.jsonValue(), location: location))
            } else if let pipelineNode = f["traffic"] {
                let pipeline = try pipelineNode.string()
                guard pipelines.contains(where: { $0.name == pipeline }) else { throw pipelineNode.error("no pipeline \(pipeline)") }
                guard let set = f["set"] else { throw item.error("a traffic event needs 'set'") }
                guard f["args"] == nil, f["reason"] == nil else { throw item.error("'args' and 'reason' belong to command events") }
                let updated = try parseTraffic(set, base: traffic[pipeline] ?? TrafficSpec(rate: 0), duration: duration)
                traffic[pipeline] = updated
                events.append(TimedEvent(at: at, change: .traffic(pipeline: pipeline, spec: updated), written: try set.jsonValue(), location: location))
            } else if let commandNode = f["command"] {
                guard f["set"] == nil else { throw item.error("a command event takes 'args', not 'set'") }
                let name = try commandNode.string()
                var arguments: [String: JSONValue] = [:]
                if let args = f["args"] {
                    guard case .object(let object) = try args.jsonValue() else { throw args.error("expected a mapping of arguments") }
                    arguments = object
                }
                events.append(TimedEvent(
                    at: at, change: .command(name: name, arguments: arguments, reason: try f["reason"]?.string()),
                    written: .object(arguments), location: location))
            }
        }
        return events
    }

    // MARK: - Expectations

    func parseExpectations(_ node: YAMLValue, pipelines: [PipelineSpec]) throws(ConfigurationError) -> [Expectation] {
        let subjects = ["param", "param_max", "param_min", "audit", "calls", "error_rate", "breaker", "trial"]
        var result: [Expectation] = []
        for item in try node.sequence() {
            let f = try item.fields(allowing: Set(subjects + [
                "equals", "at_least", "at_most", "between", "count_at_least", "count_at_most", "count_equals",
            ]))
            let given = subjects.filter { f[$0] != nil }
            guard given.count == 1, let key = given.first, let subjectNode = f[key] else {
                throw item.error("each expectation has one subject: \(subjects.joined(separator: ", "))")
            }
            let subject: Expectation.Subject
            switch key {
            case "param": subject = .param(try subjectNode.string())
            case "param_max": subject = .paramMax(try subjectNode.string())
            case "param_min": subject = .paramMin(try subjectNode.string())
            case "audit":
                let a = try subjectNode.fields(allowing: ["action", "target", "outcome", "actor"])
                if let outcome = a["outcome"], AuditOutcome(rawValue: try outcome.string()) == nil {
                    throw outcome.error("expected one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                subject = .audit(Expectation.AuditFilter(
                    action: try a["action"]?.string(), target: try a["target"]?.string(),
                    outcome: try a["outcome"]?.string(), actor: try a["actor"]?.string()))
            case "calls", "error_rate":
                let target = try subjectNode.string()
                try checkTarget(target, subjectNode, pipelines)
                subject = key == "calls" ? .calls(target) : .errorRate(target)
            case "trial":
                subject = .trial(try subjectNode.string())
            default:
                let pipeline = try subjectNode.string()
                guard let spec = pipelines.first(where: { $0.name == pipeline }) else { throw subjectNode.error("no pipeline \(pipeline)") }
                guard spec.components.contains(where: { $0.policyName == "breaker" }) else {
                    throw subjectNode.error("pipeline \(pipeline) has no breaker")
                }
                subject = .breaker(pipeline)
            }
            var comparisons: [Expectation.Comparison] = []
            let isAudit = key == "audit"
            for (name, kind) in [("equals", 0), ("at_least", 1), ("at_most", 2), ("between", 3),
                                 ("count_equals", 0), ("count_at_least", 1), ("count_at_most", 2)] {
                guard let value = f[name] else { continue }
                guard name.hasPrefix("count_") == isAudit else {
                    throw value.error(isAudit ? "an audit expectation counts entries: use count_equals, count_at_least or count_at_most"
                                              : "count_* comparisons are for audit expectations")
                }
                switch kind {
                case 0:
                    let expected = try value.jsonValue()
                    switch expected {
                    case .int, .double, .string: comparisons.append(.equals(expected))
                    default: throw value.error("expected a number or a string")
                    }
                case 1: comparisons.append(.atLeast(try value.double()))
                case 2: comparisons.append(.atMost(try value.double()))
                default:
                    let bounds = try value.sequence()
                    guard bounds.count == 2 else { throw value.error("expected [low, high]") }
                    let low = try bounds[0].double(), high = try bounds[1].double()
                    guard low <= high else { throw value.error("low (\(low)) is above high (\(high))") }
                    comparisons.append(.between(low, high))
                }
            }
            guard !comparisons.isEmpty else {
                throw item.error(isAudit ? "add count_equals, count_at_least or count_at_most" : "add equals, at_least, at_most or between")
            }
            result.append(Expectation(subject: subject, comparisons: comparisons, location: SourceLocation(item, file: file)))
        }
        return result
    }

    func checkTarget(_ target: String, _ node: YAMLValue, _ pipelines: [PipelineSpec]) throws(ConfigurationError) {
        let parts = target.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let spec = pipelines.first(where: { $0.name == parts[0] }), parts.count <= 2 else {
            throw node.error("no pipeline \(target) (give PIPELINE or PIPELINE.VARIANT)")
        }
        if parts.count == 2, !spec.variants.contains(parts[1]) {
            throw node.error("pipeline \(spec.name) has no split variant \(parts[1])")
        }
    }
}
