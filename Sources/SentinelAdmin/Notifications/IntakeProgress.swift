import Resilience

/// How many audit entries and alerts the intake has read (or lost to its
/// subscription's overflow) since it subscribed, so that on shutdown it
/// reads everything appended before the shutdown that it can still read
/// (and nothing is lost between the engine's last evaluation and the
/// drain), then stops.
final class IntakeProgress: Sendable {
    private struct State {
        var audit = 0
        var alerts = 0
        var target: (audit: Int, alerts: Int)?
        var waiter: CheckedContinuation<Void, Never>?

        var caughtUp: Bool {
            guard let target else { return false }
            return audit >= target.audit && alerts >= target.alerts
        }
    }

    private let state = Locked(State())

    /// An entry was read, or lost before it could be (the subscription's overflow).
    func readAudit() { advance { $0.audit += 1 } }
    /// An alert was read, or lost before it could be.
    func readAlert() { advance { $0.alerts += 1 } }

    private func advance(_ change: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            guard state.caughtUp, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns once `audit` entries and `alerts` alerts were read or lost, or when the task is cancelled.
    func waitUntilRead(audit: Int, alerts: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    state.target = (audit, alerts)
                    if state.caughtUp || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
