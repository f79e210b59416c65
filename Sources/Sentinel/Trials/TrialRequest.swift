import Resilience
import ShadowEval

/// The arguments of `trial.start` (what `sentinel.trial{...}` queues), read
/// into a ``TrialConfiguration`` and the cost guard's limits.
///
/// ```lua
/// sentinel.trial{
///   name = "tighter-timeout",
///   params = { ["checkout.timeout.duration"] = "300ms" },
///   window = "10m", interval = "10s", min_samples = 100, max_violations = 3, watch = "5m",
///   max_duration = "1h", max_shadow_calls = 5000000,
///   criteria = { error_rate = { absolute = 0.01, relative = 0.1 }, p99 = false, confidence = 0.95 },
/// }
/// ```
///
/// `judge = "sequential"` (default `"fixed"`) judges everything since the
/// trial began with the sequential judge (see ``TrialJudgeMode``): `window`
/// is then the minimum observation time, `min_samples` (default 500) the
/// calls each side needs before a pass, and `max_violations` is refused (the
/// first violation aborts).
public struct TrialRequest: Sendable, Hashable {
    public var configuration: TrialConfiguration
    /// Cost guard: the longest a trial may evaluate shadows before promotion (nanoseconds).
    public var maxDuration: Int64
    /// Cost guard: the most calls judged under the shadows before promotion (nil: no limit).
    public var maxShadowCalls: Int?

    static let fields: Set<String> = [
        "name", "params", "window", "interval", "min_samples", "max_violations", "watch", "max_duration",
        "max_shadow_calls", "criteria", "judge",
    ]
    static let criteriaFields: Set<String> = [
        "error_rate", "rejection_rate", "timeout_rate", "p50", "p90", "p99", "latency_shift", "confidence",
    ]

    public init(configuration: TrialConfiguration, maxDuration: Int64 = 3_600_000_000_000, maxShadowCalls: Int? = nil) {
        self.configuration = configuration
        self.maxDuration = maxDuration
        self.maxShadowCalls = maxShadowCalls
    }

    /// Reads `trial.start`'s arguments; the error names the field.
    public init(_ arguments: CommandArguments, registry: ParameterRegistry) throws(CommandError) {
        for key in arguments.values.keys where !Self.fields.contains(key) {
            throw CommandError(
                .invalidArgument, "trial.start: unknown field '\(key)' (expected one of: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        let name = try arguments.string("name")
        let paramsObject = try arguments.object("params")
        guard !paramsObject.isEmpty else { throw CommandError(.invalidArgument, "trial \(name): params names no knob") }
        let params = CommandArguments(command: "trial.start", values: paramsObject)
        var values: [String: Double] = [:]
        var pipeline: String?
        for knob in paramsObject.keys.sorted() {
            let value: Double
            if case .string(let text)? = paramsObject[knob] {
                do { value = try registry.number(for: knob, from: text) } catch { throw CommandError.from(error) }
            } else {
                value = try params.number(knob)
            }
            let owner = String(knob.prefix { $0 != "." })
            if let pipeline, pipeline != owner {
                throw CommandError(.invalidArgument, "trial \(name): every knob must belong to one pipeline (\(pipeline) and \(owner))")
            }
            pipeline = owner
            values[knob] = value
        }
        func duration(_ key: String, _ fallback: Int64) throws(CommandError) -> Int64 {
            guard arguments[key] != nil, arguments[key] != .null else { return fallback }
            let seconds = try arguments.numberOrDuration(key)
            guard seconds >= 0, seconds <= 30 * 86_400 else {
                throw CommandError(.invalidArgument, "trial \(name): \(key) must be between 0 and 30 days, got \(seconds)")
            }
            return Int64((seconds * 1e9).rounded())
        }
        func count(_ key: String, _ fallback: Int) throws(CommandError) -> Int {
            guard arguments[key] != nil, arguments[key] != .null else { return fallback }
            let number = try arguments.number(key)
            guard number >= 1, number <= 1e12, number == number.rounded() else {
                throw CommandError(.invalidArgument, "trial \(name): \(key) must be a whole number of at least 1, got \(number)")
            }
            return Int(number)
        }
        let criteria = try Self.criteria(arguments["criteria"], context: "trial \(name): ", command: "trial.start")
        let judge = try Self.judge(arguments["judge"], context: "trial \(name): ")
        if judge == .sequential, arguments["max_violations"] != nil, arguments["max_violations"] != .null {
            throw CommandError(
                .invalidArgument,
                "trial \(name): max_violations does not apply to judge \"sequential\": its first violation aborts (the test holds its confidence over every look)"
            )
        }
        configuration = TrialConfiguration(
            name: name, params: values, window: try duration("window", 600_000_000_000),
            interval: try duration("interval", 10_000_000_000),
            minSamples: try count("min_samples", judge == .sequential ? SequentialProportionTest.defaultMinimumCalls : 100),
            maxViolations: try count("max_violations", 3), watch: try duration("watch", 300_000_000_000),
            criteria: criteria, judge: judge)
        maxDuration = try duration("max_duration", 3_600_000_000_000)
        if let given = arguments["max_shadow_calls"], given != .null {
            maxShadowCalls = try count("max_shadow_calls", 0)
        } else {
            maxShadowCalls = nil
        }
        do { try configuration.validate() } catch { throw CommandError(.invalidArgument, error.message) }
    }

    /// Reads `judge`: `"fixed"` (the default) or `"sequential"`.
    static func judge(_ value: JSONValue?, context: String) throws(CommandError) -> TrialJudgeMode {
        guard let value, value != .null else { return .fixed }
        guard case .string(let text) = value, let judge = TrialJudgeMode(rawValue: text) else {
            throw CommandError(.invalidArgument, "\(context)judge must be \"fixed\" or \"sequential\", got \(value.jsonString())")
        }
        return judge
    }

    /// Reads a criteria table (`sentinel.trial`'s and `sentinel.compare`'s);
    /// `context` prefixes messages (`"trial fast: "`), `command` names the caller.
    static func criteria(_ value: JSONValue?, context: String, command: String) throws(CommandError) -> TrialCriteria {
        var criteria = TrialCriteria()
        guard let value, value != .null else { return criteria }
        guard case .object(let fields) = value else {
            throw CommandError(.invalidArgument, "\(context)criteria must be a table")
        }
        for key in fields.keys where !criteriaFields.contains(key) {
            throw CommandError(
                .invalidArgument,
                "\(context)criteria: unknown field '\(key)' (expected one of: \(criteriaFields.sorted().joined(separator: ", ")))")
        }
        func tolerance(_ key: String, _ current: MetricTolerance?) throws(CommandError) -> MetricTolerance? {
            guard let given = fields[key] else { return current }
            switch given {
            case .bool(false), .null: return nil
            case .object(let parts):
                for part in parts.keys where part != "absolute" && part != "relative" {
                    throw CommandError(.invalidArgument, "\(context)criteria.\(key): unknown field '\(part)' (expected absolute, relative)")
                }
                let arguments = CommandArguments(command: command, values: parts)
                let absolute = parts["absolute"] == nil ? (current?.absolute ?? 0) : try arguments.number("absolute")
                let relative = parts["relative"] == nil ? (current?.relative ?? 0) : try arguments.number("relative")
                guard absolute >= 0, relative >= 0 else {
                    throw CommandError(.invalidArgument, "\(context)criteria.\(key): tolerances cannot be negative")
                }
                return MetricTolerance(absolute: absolute, relative: relative)
            default:
                throw CommandError(.invalidArgument, "\(context)criteria.\(key) must be { absolute = ..., relative = ... } or false")
            }
        }
        criteria.errorRate = try tolerance("error_rate", criteria.errorRate)
        criteria.rejectionRate = try tolerance("rejection_rate", criteria.rejectionRate)
        criteria.timeoutRate = try tolerance("timeout_rate", criteria.timeoutRate)
        criteria.p50 = try tolerance("p50", criteria.p50)
        criteria.p90 = try tolerance("p90", criteria.p90)
        criteria.p99 = try tolerance("p99", criteria.p99)
        switch fields["latency_shift"] {
        case nil: break
        case .bool(false)?, .null?: criteria.latencyShift = nil
        default:
            let margin = try CommandArguments(command: command, values: fields).number("latency_shift")
            guard margin >= 0, margin < 0.5 else {
                throw CommandError(.invalidArgument, "\(context)criteria.latency_shift must be from 0 to 0.5 (or false), got \(margin)")
            }
            criteria.latencyShift = margin
        }
        if fields["confidence"] != nil {
            criteria.confidence = try CommandArguments(command: command, values: fields).number("confidence")
            guard criteria.confidence > 0.5, criteria.confidence < 1 else {
                throw CommandError(
                    .invalidArgument, "\(context)criteria.confidence must be between 0.5 and 1 (exclusive), got \(criteria.confidence)")
            }
        }
        return criteria
    }
}

extension TrialError {
    /// What went wrong, in words.
    public var message: String {
        switch self {
        case .invalidConfiguration(let reason): reason
        case .duplicateName(let name): "a trial named \(name) is already running"
        case .unknownTrial(let name): "no trial named \(name)"
        case .knob(let error): error.message
        }
    }
}
