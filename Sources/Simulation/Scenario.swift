import Resilience
import Sentinel

/// A simulation scenario: pipelines with simulated backends and traffic,
/// timed changes, and what must hold at the end (see `docs/scenarios.md`).
public struct Scenario: Sendable {
    /// The scenario's name (the file name without extension unless given).
    public var name: String
    public var description: String?
    /// Virtual run length in seconds.
    public var duration: Double
    /// Seeds the traffic, the backends, the policies' jitter and every script's `math.random`.
    public var seed: UInt64
    /// The virtual epoch in Unix seconds: audit `time` is `start + t`.
    public var start: Double
    /// The folder of Lua scripts (resolved against the scenario file's folder).
    public var policies: String
    /// Roles, guards and limits, in the `sentinel run --config` format.
    public var control: ControlPlaneConfiguration
    /// How often a `stats` event is written per pipeline, in seconds (0: never).
    public var sample: Double
    /// The pipelines, in file order.
    public var pipelines: [PipelineSpec]
    /// Timed changes, in order of `at` (ties keep file order).
    public var events: [TimedEvent]
    /// What must hold at the end.
    public var expectations: [Expectation]
}

/// Where in the scenario file something was written, for errors found after parsing.
public struct SourceLocation: Sendable, Hashable {
    public var file: String?
    public var line: Int?
    public var field: String?

    init(_ value: YAMLValue, file: String?) {
        self.file = file
        line = value.line
        field = value.path.isEmpty ? nil : value.path
    }

    public init(file: String? = nil, line: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
    }

    func error(_ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, field: field, message: message)
    }
}

/// One pipeline of a scenario: its policies, what serves its calls, and its traffic.
public struct PipelineSpec: Sendable {
    public var name: String
    /// The policies, outermost first.
    public var components: [PipelineComponent]
    /// The variants of its traffic split, in order (empty without a split).
    public var variants: [String]
    /// One backend for every call, or one per variant.
    public var backends: BackendAssignment
    /// Its own traffic; nil for a pipeline reached only through another (`via`).
    public var traffic: TrafficSpec?
    var location: SourceLocation
}

/// What serves a pipeline's attempts.
public enum BackendAssignment: Sendable {
    /// One backend for the whole pipeline.
    case shared(BackendSpec)
    /// One backend per split variant, in the split's order.
    case perVariant([(variant: String, backend: BackendSpec)])
}

/// A simulated backend, or a pipeline that calls are passed on to.
public struct BackendSpec: Sendable {
    public var latency: LatencyDistribution
    /// The probability that an attempt fails with a backend error.
    public var errorRate: Double
    /// Requests served at once; above it requests wait in a FIFO queue (nil: unlimited).
    public var capacity: Int?
    /// Requests that may wait beyond `capacity`; more fail at once as overload (nil: unlimited).
    public var queueLimit: Int?
    /// Calls go through this pipeline instead (its policies and its backends).
    public var via: String?

    public init(latency: LatencyDistribution = .fixed(0.01), errorRate: Double = 0, capacity: Int? = nil,
                queueLimit: Int? = nil, via: String? = nil) {
        self.latency = latency
        self.errorRate = errorRate
        self.capacity = capacity
        self.queueLimit = queueLimit
        self.via = via
    }
}

/// A pipeline's arrivals: a Poisson process whose rate follows a pattern.
public struct TrafficSpec: Sendable, Hashable {
    /// Requests per second.
    public var rate: Double
    public var pattern: TrafficPattern
    /// Calls carry one of this many sticky keys (nil: no keys).
    public var keys: Int?

    public init(rate: Double, pattern: TrafficPattern = .constant, keys: Int? = nil) {
        self.rate = rate
        self.pattern = pattern
        self.keys = keys
    }
}

/// A change at a virtual instant.
public struct TimedEvent: Sendable {
    public enum Change: Sendable {
        /// New settings of a backend (`pipeline` or `pipeline.variant`), the fields given merged in.
        case backend(target: String, spec: BackendSpec)
        /// New traffic of a pipeline, the fields given merged in.
        case traffic(pipeline: String, spec: TrafficSpec)
        /// An operator command through the control plane (actor `operator:scenario`).
        case command(name: String, arguments: [String: JSONValue], reason: String?)
    }

    /// Seconds since the start.
    public var at: Double
    public var change: Change
    /// The fields as written (`set`, or the command's `args`), for the output.
    public var written: JSONValue
    var location: SourceLocation
}
