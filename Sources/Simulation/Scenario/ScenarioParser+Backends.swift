import Resilience
import Sentinel

/// Backends (latency distributions, errors, capacity) and traffic patterns.
extension ScenarioParser {
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
            return .bimodal(
                fast: try parseLatency(try need("fast")), slow: try parseLatency(try need("slow")),
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
            guard rate >= 0, rate <= 10_000_000 else {
                throw rateNode.error("expected requests per second from 0 to 10000000, got \(rate)")
            }
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
}
