import Resilience

extension ControlPlane {
    /// Changes knobs through the same door as commands, for what the sentinel
    /// decides on its own (a trial's promotion or rollback) or what a command
    /// does besides its own change (a trial's shadows): `rules` say which
    /// guards and whether the freeze apply, the operations apply as one
    /// atomic step, and, when `record` is given, one audit entry says what
    /// happened (`applied`, `denied` by the freeze, `rejected` by a guard or a
    /// bound, `failed`). Without a record, `reason` is what the knobs' last
    /// change says (the command that made the change is audited as itself).
    /// Never throws: the outcome says what happened.
    @discardableResult
    public func change(
        _ operations: [KnobOperation], rules: ChangeRules, by actor: Identity = .sentinel, record: ChangeRecord?,
        reason: String? = nil
    ) -> CommandOutcome {
        if rules.heldByFreeze, actor.kind != .operator, let frozen {
            let why = frozen.reason.map { ": \($0)" } ?? ""
            return finishChange(record, actor, .frozen, "automation is frozen by \(frozen.by)\(why)")
        }
        // Each knob's live value before and after, in operation order.
        var proposals: [(knob: String, current: Double, proposed: Double)] = []
        do throws(KnobError) {
            var pending: [String: (current: Double, shadow: Double?)] = [:]
            for operation in operations {
                let knob = operation.knob
                let info: (current: Double, shadow: Double?)
                if let known = pending[knob] {
                    info = known
                } else {
                    let parameter = try registry.parameter(knob)
                    info = (parameter.value, parameter.shadow)
                }
                switch operation {
                case .set(_, let value):
                    proposals.append((knob, info.current, value))
                    pending[knob] = (value, info.shadow)
                case .promote:
                    let value = info.shadow ?? info.current
                    proposals.append((knob, info.current, value))
                    pending[knob] = (value, nil)
                case .setShadow(_, let value): pending[knob] = (info.current, value)
                case .clearShadow: pending[knob] = (info.current, nil)
                }
            }
        } catch {
            return finishChange(record, actor, CommandError.from(error).code, error.message)
        }
        let guards = state.withLock { $0.guards }
        for (knob, current, proposed) in proposals {
            for rule in guards.guards(for: knob) {
                let refusal =
                    rule.boundsRefusal(parameter: knob, proposed: proposed)
                    ?? (rules.stepGuards ? rule.stepRefusal(parameter: knob, current: current, proposed: proposed) : nil)
                if let refusal { return finishChange(record, actor, .guardRefused, refusal) }
            }
        }
        let changed = proposals.map(\.knob)
        if rules.intervalGuards, let refusal = reserveIntervals(changed, guards: guards) {
            return finishChange(record, actor, .guardRefused, refusal)
        }
        do throws(KnobError) {
            try writer.apply(operations)
        } catch {
            if rules.intervalGuards { state.withLock { for knob in changed { $0.lastChange.removeValue(forKey: knob) } } }
            return finishChange(record, actor, CommandError.from(error).code, error.message)
        }
        if !rules.intervalGuards, !changed.isEmpty {
            // A rollback is a change too: later ramps wait their interval from it.
            let now = time.now()
            state.withLock { for knob in changed { $0.lastChange[knob] = now } }
        }
        noteChange(of: Array(Set(operations.map(\.knob))), by: actor.auditName, reason: record?.reason ?? reason)
        guard let record else { return CommandOutcome(outcome: .applied, result: nil, error: nil, entry: nil) }
        let entry = AuditEntry(
            time: self.now, actor: actor.auditName, action: record.action, target: record.target, args: record.args,
            outcome: .applied, reason: record.reason, evidence: record.evidence)
        audit.append(entry)
        return CommandOutcome(outcome: .applied, result: nil, error: nil, entry: entry)
    }

    /// Checks `min_interval` for every knob and records the change time of
    /// all of them in one step, or none when one is refused.
    private func reserveIntervals(_ knobs: [String], guards: GuardPolicy) -> String? {
        let now = time.now()
        return state.withLock { state -> String? in
            for knob in knobs {
                guard let last = state.lastChange[knob] else { continue }
                for rule in guards.guards(for: knob) {
                    if let refusal = rule.intervalRefusal(parameter: knob, sinceLastChange: .nanoseconds(now - last)) {
                        return refusal
                    }
                }
            }
            for knob in knobs { state.lastChange[knob] = now }
            return nil
        }
    }

    private func finishChange(
        _ record: ChangeRecord?, _ actor: Identity, _ code: CommandError.Code, _ message: String
    ) -> CommandOutcome {
        let error = CommandError(code, message)
        guard let record else { return CommandOutcome(outcome: error.outcome, result: nil, error: error, entry: nil) }
        let entry = AuditEntry(
            time: now, actor: actor.auditName, action: record.action, target: record.target, args: record.args,
            outcome: error.outcome, reason: "\(record.reason.map { "\($0); " } ?? "")not applied: \(message)",
            evidence: record.evidence)
        audit.append(entry)
        return CommandOutcome(outcome: error.outcome, result: nil, error: error, entry: entry)
    }
}
