/// The sequential test a trial with ``TrialJudgeMode/sequential`` runs: the
/// pipeline's totals when it began, and the tests kept across looks.
///
/// It lives in memory only: a restart (which resets the pipeline's counters)
/// or a freeze drops it, and the trial begins a new one.
public struct TrialSequentialTest: Sendable, Hashable {
    /// When the test began (nanoseconds on the trial's clock): its minimum
    /// observation time counts from here.
    public let since: Int64
    /// Both sides' running totals when it began.
    public let base: TrialTotals
    /// The tests, with their state from the looks so far.
    public private(set) var judge: SequentialJudge

    /// Begins a test at `since` from the running totals `base`.
    public init(since: Int64, base: TrialTotals, judge: SequentialJudge) {
        self.since = since
        self.base = base
        self.judge = judge
    }

    /// Looks at what each side recorded since the test began (`totals` are
    /// running totals): the shadow is the candidate, live the reference.
    mutating func look(_ totals: TrialTotals) -> (SequentialVerdict, Evidence) {
        let recorded = totals.since(base)
        return judge.look(candidate: recorded.shadow, reference: recorded.live)
    }
}
