/// Stops calling a failing dependency for a while, then lets a few trial calls
/// decide whether it has recovered.
///
/// Knobs (under `<pipeline>.breaker.`): `failure_rate` and `slow_call_rate`
/// (0...1), `slow_call_duration` (seconds), `minimum_calls` (1...1000000),
/// `open_duration` and `max_open_duration` (seconds), `open_multiplier`
/// (1...100, growth across consecutive openings), `half_open_calls` (1...10000).
/// Changing them never resets the window, the state or the trial count.
///
/// Shadow: a second state machine with the shadow settings is fed the same
/// outcomes; a call it would have refused is a shadow rejection; a call live
/// refused but the shadow would have let through is unknown.
public struct CircuitBreaker: PipelinePolicy {
    /// Initial settings.
    public var settings: BreakerSettings
    /// The sliding window.
    public var window: BreakerWindowKind
    /// Start in metrics-only mode (records, never refuses).
    public var metricsOnly: Bool

    /// Makes a breaker policy.
    public init(
        failureRate: Double = 0.5,
        slowCallRate: Double = 1.0,
        slowCallDuration: Duration = .seconds(60),
        minimumCalls: Int = 20,
        window: BreakerWindowKind = .count(100),
        openDuration: Duration = .seconds(30),
        openMultiplier: Double = 1,
        maxOpenDuration: Duration = .seconds(300),
        halfOpenCalls: Int = 5,
        metricsOnly: Bool = false
    ) {
        settings = BreakerSettings(
            failureRateThreshold: failureRate, slowCallRateThreshold: slowCallRate,
            slowCallDuration: slowCallDuration.nanosecondsClamped, minimumCalls: minimumCalls,
            openDuration: openDuration.nanosecondsClamped, openDurationMultiplier: openMultiplier,
            maxOpenDuration: maxOpenDuration.nanosecondsClamped, halfOpenCalls: halfOpenCalls)
        self.window = window
        self.metricsOnly = metricsOnly
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.breaker(self)) }

    static func knobs(_ pipeline: String, _ spec: CircuitBreaker) -> [KnobDescriptor] {
        let p = "\(pipeline).breaker"
        let s = spec.settings
        return [
            KnobDescriptor(
                name: "\(p).failure_rate", kind: .ratio, minimum: 0, maximum: 1,
                defaultValue: s.failureRateThreshold, description: "Failure rate that opens the breaker"),
            KnobDescriptor(
                name: "\(p).slow_call_rate", kind: .ratio, minimum: 0, maximum: 1,
                defaultValue: s.slowCallRateThreshold, description: "Slow-call rate that opens the breaker"),
            KnobDescriptor(
                name: "\(p).slow_call_duration", kind: .duration, minimum: 0, maximum: 3600,
                defaultValue: seconds(fromNanos: s.slowCallDuration), description: "A call this long is slow"),
            KnobDescriptor(
                name: "\(p).minimum_calls", kind: .integer, minimum: 1, maximum: 1_000_000,
                defaultValue: Double(s.minimumCalls), description: "Calls in the window before rates count",
                refusesZero: true),
            KnobDescriptor(
                name: "\(p).open_duration", kind: .duration, minimum: 0.001, maximum: 86400,
                defaultValue: seconds(fromNanos: s.openDuration), description: "Time open before trial calls"),
            KnobDescriptor(
                name: "\(p).open_multiplier", kind: .number, minimum: 1, maximum: 100,
                defaultValue: s.openDurationMultiplier, description: "Growth of the open time per consecutive opening"),
            KnobDescriptor(
                name: "\(p).max_open_duration", kind: .duration, minimum: 0.001, maximum: 86400,
                defaultValue: seconds(fromNanos: s.maxOpenDuration), description: "Longest open time"),
            KnobDescriptor(
                name: "\(p).half_open_calls", kind: .integer, minimum: 1, maximum: 10000,
                defaultValue: Double(s.halfOpenCalls), description: "Trial calls while half-open",
                refusesZero: true),
        ]
    }
}
