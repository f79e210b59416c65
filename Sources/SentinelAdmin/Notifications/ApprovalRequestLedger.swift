import Resilience

/// The gates whose request was notified: a gate's `approval.request` is sent
/// once, however many evaluations ask, until the script resets the gate
/// (`approval.reset`) and a new request opens it again.
final class ApprovalRequestLedger: Sendable {
    private let notified = Locked<Set<String>>([])

    /// True the first time `gate` is requested since it was last reset.
    func firstRequest(_ gate: String) -> Bool {
        notified.withLock { $0.insert(gate).inserted }
    }

    /// The gate was reset: its next request is news.
    func forget(_ gate: String) {
        _ = notified.withLock { $0.remove(gate) }
    }
}
