/// What a trial tries and how it is judged. Durations are in nanoseconds.
public struct TrialConfiguration: Sendable, Hashable {
    /// The trial's name (unique among running trials).
    public var name: String
    /// Knob → candidate value, applied as shadows together and promoted together.
    public var params: [String: Double]
    /// How long the criteria must hold continuously before promotion (default 10 minutes).
    public var window: Int64
    /// The expected time between evaluations (default 10 s). A gap of more than
    /// twice this is a stall: the window restarts, as nothing was observed.
    public var interval: Int64
    /// Judged calls needed in both windows at each evaluation (default 100).
    public var minSamples: Int
    /// K: violations that abort the trial (default 3). Each violation restarts the window.
    /// Fixed judge only: the sequential judge's first violation aborts.
    public var maxViolations: Int
    /// How long live is compared against the pre-promotion baseline after
    /// promotion (default 5 minutes; 0 ends the trial at promotion).
    public var watch: Int64
    /// What is compared.
    public var criteria: TrialCriteria
    /// How the shadow is judged before promotion (default ``TrialJudgeMode/fixed``).
    /// With ``TrialJudgeMode/sequential``, ``window`` is the minimum
    /// observation time and ``minSamples`` the calls each side needs before a pass.
    public var judge: TrialJudgeMode

    /// Makes a configuration; the defaults are documented on each property.
    public init(
        name: String, params: [String: Double], window: Int64 = 600_000_000_000,
        interval: Int64 = 10_000_000_000, minSamples: Int = 100, maxViolations: Int = 3,
        watch: Int64 = 300_000_000_000, criteria: TrialCriteria = TrialCriteria(), judge: TrialJudgeMode = .fixed
    ) {
        self.judge = judge
        self.name = name
        self.params = params
        self.window = window
        self.interval = interval
        self.minSamples = minSamples
        self.maxViolations = maxViolations
        self.watch = watch
        self.criteria = criteria
    }

    /// Throws ``TrialError/invalidConfiguration(_:)`` naming the first unusable field.
    public func validate() throws(TrialError) {
        func fail(_ reason: String) -> TrialError { .invalidConfiguration("trial \"\(name)\": \(reason)") }
        if name.isEmpty { throw .invalidConfiguration("a trial needs a name") }
        if params.isEmpty { throw fail("params must name at least one knob") }
        if params.values.contains(where: { !$0.isFinite }) { throw fail("params must be finite numbers") }
        if window <= 0 { throw fail("window must be positive") }
        if interval <= 0 { throw fail("interval must be positive") }
        if minSamples < 1 { throw fail("min_samples must be at least 1") }
        if maxViolations < 1 { throw fail("max_violations must be at least 1") }
        if watch < 0 { throw fail("watch must not be negative") }
        if !(criteria.confidence > 0.5 && criteria.confidence < 1) {
            throw fail("confidence must be between 0.5 and 1 (exclusive)")
        }
        if judge == .sequential, let problem = SequentialJudge.problem(with: criteria, setting: "with judge \"sequential\"") {
            throw fail(problem)
        }
    }

    /// The α of each sequential test: `1 - confidence` is the whole trial's
    /// false-alarm budget, split over the metrics it judges (``SequentialBudget``).
    public var sequentialAlpha: Double {
        SequentialBudget(total: 1 - criteria.confidence, steps: 1, metrics: SequentialJudge.judgedMetrics(criteria)).perTest
    }
}
