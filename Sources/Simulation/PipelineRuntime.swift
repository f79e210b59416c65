import Resilience

/// Counts of finished calls.
struct CallCounts: Equatable {
    var calls = 0
    /// Calls that failed, timeouts and rejections included.
    var failures = 0
    /// Of the failures: those a timeout ended, and those a policy refused.
    var timeouts = 0
    var rejections = 0
    /// Calls that took at least the scenario's `slow_call`, whatever their outcome.
    var slowCalls = 0

    static func - (lhs: CallCounts, rhs: CallCounts) -> CallCounts {
        CallCounts(
            calls: lhs.calls - rhs.calls, failures: lhs.failures - rhs.failures, timeouts: lhs.timeouts - rhs.timeouts,
            rejections: lhs.rejections - rhs.rejections, slowCalls: lhs.slowCalls - rhs.slowCalls)
    }

    static func + (lhs: CallCounts, rhs: CallCounts) -> CallCounts {
        CallCounts(
            calls: lhs.calls + rhs.calls, failures: lhs.failures + rhs.failures, timeouts: lhs.timeouts + rhs.timeouts,
            rejections: lhs.rejections + rhs.rejections, slowCalls: lhs.slowCalls + rhs.slowCalls)
    }
}

/// Calls and failures counted by the simulator over the whole run (the
/// observer's windows hold 15 minutes at most): what the `stats` events, the
/// summary and the report's charts read.
struct CallTotals {
    private(set) var counts = CallCounts()
    private var atSample = CallCounts()

    var calls: Int { counts.calls }
    var failures: Int { counts.failures }

    mutating func record(_ outcome: Outcome, slow: Bool) {
        counts.calls += 1
        if outcome.isFailure { counts.failures += 1 }
        if outcome == .timeout { counts.timeouts += 1 }
        if outcome.isRejection { counts.rejections += 1 }
        if slow { counts.slowCalls += 1 }
    }

    /// What finished since the last ``markSample()``.
    func sinceSample() -> CallCounts { counts - atSample }

    mutating func markSample() {
        atSample = counts
    }
}

/// A pipeline while the simulation runs: what serves it, its traffic, its
/// bulkhead queue and its totals.
struct PipelineRuntime {
    enum Target {
        case backend(Int)
        case pipeline(Int)
    }

    let index: Int
    /// The instance of a fleet it runs on (0 without one).
    let instance: Int
    let name: String
    let pipeline: Pipeline
    let variants: [String]
    /// One target for the whole pipeline, or one per variant in split order.
    let targets: [Target]
    var traffic: TrafficSpec?
    var trafficRandom: Xoshiro256StarStar
    /// Bumped when the traffic changes, so the arrival scheduled before is dropped.
    var arrivalToken: UInt32 = 0
    let keys: [String]
    /// Calls waiting in the pipeline's bulkhead queue, oldest first.
    var queued: [Int32] = []
    var totals = CallTotals()
    var variantTotals: [CallTotals]

    init(
        index: Int, instance: Int = 0, spec: PipelineSpec, pipeline: Pipeline, targets: [Target], trafficSeed: UInt64,
        traffic: TrafficSpec?
    ) {
        self.index = index
        self.instance = instance
        name = spec.name
        self.pipeline = pipeline
        variants = spec.variants
        self.targets = targets
        self.traffic = traffic
        trafficRandom = Xoshiro256StarStar(seed: trafficSeed)
        keys = (0..<(spec.traffic?.keys ?? 0)).map { "key-\($0)" }
        variantTotals = Array(repeating: CallTotals(), count: spec.variants.count)
    }

    /// The variant's index in the split, or -1.
    func variantIndex(_ name: String?) -> Int {
        guard let name else { return -1 }
        return variants.firstIndex(of: name) ?? -1
    }

    func target(forVariant variant: Int) -> Target {
        targets.count == 1 ? targets[0] : targets[max(0, variant)]
    }
}

/// One call in flight.
struct CallRecord {
    var call: SimulatedCall
    var pipeline: Int32
    /// Bumped at every step, so events scheduled for an earlier step are ignored
    /// (a deadline after the answer came, an answer after the deadline fired).
    var token: UInt32
    /// The call whose attempt this one serves (`via`), or -1.
    var parent: Int32
    var parentToken: UInt32
    /// The split variant of the first attempt, or -1.
    var variant: Int16
    var key: String?
}
