import Resilience
import Sentinel

/// Policies of a scenario's pipelines: `timeout`, `retry`, `breaker`, `bulkhead`, `ratelimit`, `split`.
extension ScenarioParser {
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
                if r.isNull || (try? r.string()) == "none" {
                    budgetRatio = nil
                } else {
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
            return (
                Bulkhead(
                    maxConcurrent: try positiveInt(concurrent), maxQueued: queued,
                    queueTimeout: try f["queue_timeout"]?.duration() ?? .zero
                ).component, nil
            )
        case "ratelimit":
            let f = try node.fields(allowing: ["rate", "burst", "window"])
            guard let rateNode = f["rate"] else { throw node.error("a rate limit needs 'rate' (permits per second)") }
            let rate = try rateNode.double()
            guard rate > 0 else { throw rateNode.error("expected a rate above 0, got \(rate)") }
            if f["burst"] != nil, f["window"] != nil {
                throw node.error("give 'burst' (token bucket) or 'window' (sliding window), not both")
            }
            let algorithm: RateLimit.Algorithm =
                if let w = f["window"] {
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
}
