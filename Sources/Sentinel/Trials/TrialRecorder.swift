import ShadowEval
import Synchronization

/// The Sentinel's side of ``TrialEventSink``: audits what a trial did on its
/// own (`trial.promote`, `trial.rollback`, `trial.abort`, actor `sentinel`,
/// with the evidence) and remembers each trial's last event for `state.trials`.
///
/// An abort asked for by a command is audited by the control plane as that
/// command; the recorder does not write it twice.
final class TrialRecorder: TrialEventSink {
    private struct State {
        var lastEvent: [String: TrialEvent] = [:]
        /// The trial an abort command is ending right now.
        var commandedAbort: String?
    }

    private let plane: ControlPlane
    private let state = Mutex(State())

    init(plane: ControlPlane) {
        self.plane = plane
    }

    func record(_ event: TrialEvent, trial: ShadowTrial) {
        let commanded = state.withLock { state in
            state.lastEvent[event.trial] = event
            return state.commandedAbort == event.trial
        }
        let action: String
        switch event.kind {
        case .promoted: action = "trial.promote"
        case .rolledBack: action = "trial.rollback"
        case .aborted: action = "trial.abort"
        case .held: action = "trial.hold"
        default: return  // started: audited as trial.start; the rest show in state.trials
        }
        if commanded && (event.kind == .aborted || event.kind == .rolledBack) { return }
        var args: [String: CommandValue] = ["name": .string(event.trial)]
        args["params"] = .object(trial.configuration.params.mapValues { .double($0) })
        if event.kind == .rolledBack {
            args["restored"] = .object(trial.previousValues.mapValues { .double($0) })
        }
        plane.record(AuditEntry(
            time: plane.now, actor: "sentinel", action: action, target: event.trial, args: .object(args),
            outcome: .applied, reason: event.evidence["reason"]?.string ?? Self.reason(event.kind), evidence: event.evidence.commandValue))
    }

    static func reason(_ kind: TrialEvent.Kind) -> String {
        switch kind {
        case .promoted: "the shadows held the criteria through the whole window"
        case .rolledBack: "live regressed against the pre-promotion baseline"
        case .aborted: "the trial ended without promotion"
        case .held: "automation is frozen"
        default: kind.rawValue
        }
    }

    func lastEvent(_ trial: String) -> TrialEvent? { state.withLock { $0.lastEvent[trial] } }

    /// Runs `body` while an abort command ends `trial` (its events are the command's to audit).
    func commandingAbort<T>(_ trial: String, _ body: () throws(TrialError) -> T) throws(TrialError) -> T {
        state.withLock { $0.commandedAbort = trial }
        defer { state.withLock { $0.commandedAbort = nil } }
        return try body()
    }
}

extension Dictionary where Key == String, Value == EvidenceValue {
    /// Evidence as a command value: numbers stay numbers (NaN is written as the string "NaN").
    var commandValue: CommandValue {
        .object(mapValues { value in
            switch value {
            case .number(let number): .double(number)
            case .string(let text): .string(text)
            }
        })
    }
}
