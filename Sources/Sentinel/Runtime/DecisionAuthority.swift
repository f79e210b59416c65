/// Who may decide: in a fleet only the leader evaluates scripts and trials,
/// and only while its lease holds. The ``Sentinel`` service asks before each
/// round and reports each round it ran.
///
/// A single process has no authority: it always decides.
public protocol DecisionAuthority: Sendable {
    /// Whether this process may evaluate scripts and trials now. Called before
    /// every round; may wait (an instance that just became the leader first
    /// catches up with the desired state).
    func mayDecide() async -> Bool
    /// After a round this process ran: share what it decided.
    func roundFinished(_ round: SentinelRuntime.Round) async
}
