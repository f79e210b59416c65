/// The ranges Sentinel's inputs use. Each is documented where its field is
/// (docs/scenarios.md, docs/control-plane.md, docs/lua-api.md); a field with
/// no narrower range takes ``duration`` for durations.
extension InputRange {
    /// Seconds in a day.
    static let day = 86_400.0

    /// Any duration no narrower range covers: 0 to 365 days. Far enough from
    /// `Int64` nanoseconds (292 years) that adding one to any instant is safe.
    public static let duration = InputRange.seconds(0...365 * day)
    /// A script's `interval`: 100 ms to 24 h.
    public static let scriptInterval = InputRange.seconds(0.1...day)
    /// A scenario's `duration` of virtual time: above 0 up to 30 days.
    public static let scenarioDuration = InputRange.seconds(0...30 * day, excludesLower: true)
    /// How often a scenario reports statistics (`sample`): 1 s to 30 days.
    public static let scenarioSample = InputRange.seconds(1...30 * day)
    /// When a simulated call counts as slow (a scenario's `slow_call`): above 0 up to 1 day.
    public static let slowCall = InputRange.seconds(0...day, excludesLower: true)
    /// A simulated latency (a distribution's parameters): 0 to 1 h.
    public static let simulatedLatency = InputRange.seconds(0...3600)
    /// A diurnal traffic pattern's period: above 0 up to 30 days.
    public static let trafficPeriod = InputRange.seconds(0...30 * day, excludesLower: true)
    /// A script call's deadline (`limits.deadline`): 1 ms to 60 s.
    public static let scriptDeadline = InputRange.seconds(0.001...60)
    /// A trial's durations (`window`, `interval`, `watch`, `max_duration`): 0 to 30 days.
    public static let trialDuration = InputRange.seconds(0...30 * day)
    /// A circuit breaker's time window: 1 s to 1 h (one bucket per second).
    public static let breakerTimeWindow = InputRange(1, 3600, unit: .seconds, wholeNumber: true)
    /// A circuit breaker's count window: 1 to 1,000,000 calls.
    public static let breakerCountWindow = InputRange(1, 1_000_000, unit: .number, wholeNumber: true)

    /// A script state's memory cap (`limits.memory`): 256 KiB to 64 GiB.
    public static let scriptMemory = InputRange(262_144, 68_719_476_736, unit: .bytes, wholeNumber: true)
    /// VM instructions per script call (`limits.instructions`): 1,000 to 10^12.
    public static let scriptInstructions = InputRange(1000, 1e12, unit: .number, wholeNumber: true)
    /// Commands one evaluation may issue (`max_commands_per_evaluation`): 1 to 1,000,000.
    public static let commandsPerEvaluation = InputRange(1, 1_000_000, unit: .number, wholeNumber: true)

    /// A scenario's traffic rate: 0 to 10,000,000 requests per second.
    public static let trafficRate = InputRange(0, 10_000_000, unit: .perSecond)
    /// A spike's factor: 0 to 1,000.
    public static let spikeFactor = InputRange(0, 1000, unit: .number)
    /// A simulated backend's capacity (calls at once): 1 to 1,000,000.
    public static let backendCapacity = InputRange(1, 1_000_000, unit: .number, wholeNumber: true)
    /// A simulated backend's queue limit: 0 to 10,000,000.
    public static let backendQueue = InputRange(0, 10_000_000, unit: .number, wholeNumber: true)
    /// Distinct request keys a scenario's traffic draws from: 1 to 1,000,000.
    public static let trafficKeys = InputRange(1, 1_000_000, unit: .number, wholeNumber: true)
    /// A simulated fleet's instances (a scenario's `fleet.instances`): 1 to 100.
    public static let simulatedInstances = InputRange(1, 100, unit: .number, wholeNumber: true)
    /// A fleet leader's lease (`--fleet-lease`, a scenario's `fleet.lease`): 1 s to 300 s.
    public static let fleetLease = InputRange.seconds(1...300)
    /// A ratio: 0 to 1.
    public static let ratio = InputRange(0, 1, unit: .number)
    /// A guard's step (`max_step_up`, `max_step_down`): 0 to 10^15.
    public static let guardStep = InputRange(0, 1e15, unit: .number)
    /// A guard's bound (`min`, `max`): -10^15 to 10^15.
    public static let guardBound = InputRange(-1e15, 1e15, unit: .number)
}

extension Duration {
    /// A duration of `seconds`, which must lie in `range` (by default any
    /// ``InputRange/duration``): the one conversion from user seconds, never
    /// trapping.
    public init(checkedSeconds seconds: Double, in range: InputRange = .duration) throws(InputRangeError) {
        let value = try range.check(seconds)
        // The ranges stay far below Int64 nanoseconds; the clamp guards a wider custom range.
        let nanoseconds = (value * 1e9).rounded()
        guard nanoseconds.magnitude < 9.2e18 else {
            throw InputRangeError("\(InputRange.text(value, .seconds)) is longer than any duration Sentinel can hold")
        }
        self = .nanoseconds(Int64(nanoseconds))
    }
}
