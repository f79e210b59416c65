/// How a trial judges its shadow against live before promotion.
public enum TrialJudgeMode: String, Sendable, Hashable, CaseIterable {
    /// Each evaluation judges the last observer window (``TrialJudge``);
    /// passing evaluations must cover the trial's window continuously, and
    /// the K-th violation aborts.
    case fixed
    /// Every evaluation looks at everything since the trial (or its test)
    /// began with a ``SequentialJudge``, whose false-alarm rate holds over
    /// every look: promotion needs its pass and at least the trial's window
    /// of observation; its first violation aborts.
    case sequential
}
