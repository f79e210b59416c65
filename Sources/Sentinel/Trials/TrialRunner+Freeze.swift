import ShadowEval

extension TrialRunner {
    /// Holds a trial for a freeze (see ``ShadowTrial/hold(now:reason:)``).
    /// While watching, the watch is still judged (without deciding): a
    /// regression is alerted every interval, and the rollback it would have
    /// made is audited as `denied` once per freeze.
    func hold(_ record: inout TrialRecord, frozen: ControlPlane.Frozen, now: Int64) -> Alert? {
        let why = "automation is frozen by \(frozen.by)" + (frozen.reason.map { ": \($0)" } ?? "")
        let firstHold = record.trial.heldSince == nil
        if firstHold { record.heldRollbackAudited = false }
        let before = record.trial
        let step = record.trial.hold(now: now, reason: why + "; the window restarts after the unfreeze")
        for event in step.events where event.kind == .held {
            plane.record(
                AuditEntry(
                    time: plane.now, actor: "sentinel", action: "trial.hold", target: record.name,
                    args: ["name": .string(record.name), "params": .object(before.configuration.params.mapValues { .double($0) })],
                    outcome: .applied, reason: event.evidence["reason"]?.string ?? Self.reason(.held),
                    evidence: event.evidence.jsonValue))
        }
        if let last = step.events.last { record.lastEvent = last }
        guard before.status == .watching, let pipeline = plane.registry.pipeline(named: record.pipeline) else { return nil }
        let window = Self.window(for: before.configuration.interval)
        let statistics = self.statistics(of: pipeline, now: now)
        let verdict = before.watchVerdict(
            live: statistics.live.stats(window, now: statistics.instant),
            liveLatencies: statistics.live.latencyHistogram(window, now: statistics.instant))
        guard case .violation(let metrics, let evidence)? = verdict else { return nil }
        if !record.heldRollbackAudited {
            record.heldRollbackAudited = true
            plane.record(
                AuditEntry(
                    time: plane.now, actor: "sentinel", action: "trial.rollback", target: record.name,
                    args: .object([
                        "name": .string(record.name), "params": .object(before.configuration.params.mapValues { .double($0) }),
                        "restored": .object(before.previousValues.mapValues { .double($0) }),
                    ]),
                    outcome: .denied, reason: "\(why); live regressed (\(metrics.joined(separator: ", "))) but the rollback is held",
                    evidence: evidence.jsonValue))
        }
        return Alert(
            time: plane.now, source: "sentinel", severity: .critical,
            message:
                "trial \(record.name): live regressed against the pre-promotion baseline (\(metrics.joined(separator: ", "))); the rollback is held while \(why)",
            fields: ["trial": .string(record.name), "metrics": .array(metrics.map { .string($0) })])
    }
}
